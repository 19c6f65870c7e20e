"""What every reader of feeds shares: the ParsedFeed it fills and small value helpers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urldefrag, urljoin

from archiver.items import ArticleItem

Element = Any
"""An lxml element (lxml has no type hints)."""


@dataclass
class ParsedFeed:
    """One feed document as read: its own metadata, its entries and what went wrong."""

    kind: str
    """``rss`` (RSS 0.9x/2.0, also CDF), ``rdf`` (RSS 1.0/0.90), ``atom`` (0.3 and 1.0) or
    ``json`` (JSON Feed 1.0/1.1)."""
    title: str | None
    """The feed's title as published, surrounding whitespace trimmed."""
    link: str | None
    """The site the feed belongs to, absolute."""
    language: str | None
    """The language the feed declares (``<language>``, ``dc:language``, ``xml:lang``)."""
    encoding: str | None
    """The encoding actually used to decode the document."""
    ttl: int | None
    """RSS ``<ttl>``: minutes the feed may be cached, if given."""
    entries: list[ArticleItem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Problems met while reading (bad encoding, not well-formed XML...): recorded, never raised."""
    skipped_empty: int = 0
    """Entries left out because they said nothing (no title, link, guid, content, summary
    nor media): counted, never archived."""


_DIGITS = re.compile(r"[0-9]{1,18}")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)


def non_negative_int(value: object) -> int | None:
    """A count or size as published (a JSON number or decimal text), or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if 0 <= value < 1e18 else None
    if isinstance(value, str):
        stripped = value.strip()
        return int(stripped) if _DIGITS.fullmatch(stripped) else None
    return None


_ABSOLUTE_HTTP = re.compile(r"https?://[^\s/?#\\]+(?:[/?#][^\s\\]*)?\Z", re.IGNORECASE)
_PLAIN_PATH = re.compile(r"/(?![/\\])[^\s\\]*\Z")


@lru_cache(maxsize=256)
def _origin(base: str) -> str | None:
    """``scheme://host`` of an http(s) base URL, for joining absolute paths quickly."""
    match = re.match(r"(https?://[^/?#\s\\]+)", base, re.IGNORECASE)
    return match.group(1) if match else None


def join_url(base: str, reference: str) -> str:
    """``urljoin``, with fast paths for the two common cases (urljoin is slow per call)."""
    reference = reference.strip()
    if not base or _ABSOLUTE_HTTP.match(reference):
        return reference
    if _PLAIN_PATH.match(reference) and "/." not in reference:
        origin = _origin(base)
        if origin is not None:
            return origin + reference
    try:
        return urljoin(base, reference)
    except ValueError:  # e.g. a malformed IPv6 host
        return reference


def fallback_url(feed_url: str, guid: str | None, *parts: str | None) -> str:
    """A stable URL for an entry with no link: the feed URL with the guid (or a digest)."""
    page = urldefrag(feed_url)[0]
    if guid:
        return f"{page}#{quote(guid, safe='')}"
    digest = hashlib.sha256("\x1f".join(part or "" for part in parts).encode("utf-8"))
    return f"{page}#entry-{digest.hexdigest()[:16]}"


def entry_url(
    feed_url: str, link: str | None, guid: str | None, guid_is_permalink: bool | None
) -> str:
    """The entry's own URL: its link, else its guid when that is a permalink (``isPermaLink``
    says so, or says nothing and the guid is an http(s) URL); "" when neither is."""
    if link:
        return link
    if guid and (guid_is_permalink or (guid_is_permalink is None and _HTTP_URL.match(guid))):
        return join_url(feed_url, guid)
    return ""

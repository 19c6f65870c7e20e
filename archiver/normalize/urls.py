"""Article URLs: canonical form, tracking parameters removed, and the archive's identity key."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*",  # Google Analytics campaign parameters (utm_source, utm_medium, ...)
    "ktm_*",  # 36kr's own campaign parameters
    "spm",  # Alibaba/Taobao "super position model" click tracking
    "from",  # share/feed origin markers (from=rss, from=singlemessage)
    "fbclid",  # Facebook click id
    "gclid",  # Google Ads click id
)


def _is_tracking(name: str, patterns: Iterable[str]) -> bool:
    name = name.lower()
    for pattern in patterns:
        lowered = pattern.lower()
        if lowered.endswith("*") and name.startswith(lowered[:-1]):
            return True
        if name == lowered:
            return True
    return False


def canonicalize_url(
    url: str | None,
    *,
    base: str | None = None,
    tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS,
) -> str | None:
    """The canonical absolute form of ``url``, or None when it cannot be used."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or url.lower() in {"undefined", "null"}:
        return None
    if base:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if port and (port, parts.scheme.lower()) not in {(80, "http"), (443, "https")}:
        host = f"{host}:{port}"
    patterns = list(tracking_params)
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(pair.split("=")[0], patterns)
    )
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def article_identity(
    guid: str | None,
    *,
    canonical_url: str | None,
    url: str | None,
    title: str | None,
    published: datetime | None,
    published_raw: str | None,
) -> str:
    """The stable key an article is archived under within its source."""
    if isinstance(guid, str) and guid.strip() and guid.strip().lower() not in {"undefined", "null"}:
        return guid.strip()
    for candidate in (canonical_url, url):
        canonical = canonicalize_url(candidate)
        if canonical:
            return canonical
    date = published.astimezone(UTC).isoformat() if published else (published_raw or "")
    key = f"{' '.join((title or '').split()).casefold()}\n{date.strip()}"
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()

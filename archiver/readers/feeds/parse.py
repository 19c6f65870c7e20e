"""The entry points: sniff a feed's format, and parse one with the reader its document needs."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from urllib.parse import urldefrag

from archiver.errors import FeedParseError
from archiver.items import ArticleItem
from archiver.readers.feeds.common import ParsedFeed
from archiver.readers.feeds.decoding import BOMS, decode_document, sniff_unicode_family
from archiver.readers.feeds.jsonfeed import parse_json_feed
from archiver.readers.feeds.loose import merge_readings, read_with_feedparser
from archiver.readers.feeds.names import FEED_ROOTS, element_key
from archiver.readers.feeds.recovery import load_xml
from archiver.readers.feeds.tree import TreeReader, find_feed_root

logger = logging.getLogger(__name__)

_ENTRY_START_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(
    r"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)*+<([^\s/>!?]+)",
    re.DOTALL | re.IGNORECASE,
)


def sniff_feed_kind(body: bytes, content_type: str | None = None) -> str | None:
    """Guess the feed format from the first bytes: ``rss``, ``rdf``, ``atom``, ``json`` or None.

    Cheap (reads at most 64 KiB, parses nothing); ``parse_feed`` decides for real.
    """
    try:
        head = bytes(body[:65536])
        codec = sniff_unicode_family(head) or "utf-8"
        for bom, bom_codec in BOMS:
            if head.startswith(bom):
                head, codec = head[len(bom) :], bom_codec
                break
        text = head.decode(codec, "ignore")
        stripped = text.lstrip()
        media_type = (content_type or "").split(";")[0].strip().lower()
        if stripped.startswith("{"):
            if "json" in media_type or "jsonfeed.org" in text or '"items"' in text:
                return "json"
            return None
        match = _FIRST_ELEMENT.match(text)
        if match is None:
            return None
        local = match.group(1).rpartition(":")[2].lower()
        return {"rss": "rss", "rdf": "rdf", "feed": "atom", "channel": "rss"}.get(local)
    except Exception:  # a sniffer answers "don't know", whatever the input
        return None


def parse_feed(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> ParsedFeed:
    """Read a feed document (RSS, RDF, Atom, JSON Feed) into a ParsedFeed of ArticleItems.

    ``url`` is where the document was fetched: the last base for relative links, and every
    item's ``source_url``. ``content_type`` is the HTTP header (its charset is honoured).
    A document that is not well-formed gives what can be recovered, its problems listed in
    ``errors``; ``FeedParseError`` is raised only when nothing can be (an HTML page, an empty
    body, garbage), and it is the only exception this function raises.
    """
    try:
        return _parse_feed(bytes(body), url or "", content_type, fetched_at)
    except FeedParseError:
        raise
    except Exception as error:  # the contract: any input, no exception but FeedParseError
        logger.warning("unexpected failure reading feed %s", url, exc_info=True)
        raise FeedParseError(f"could not read feed {url}: {error!r}") from error


def _parse_feed(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> ParsedFeed:
    if not body.strip():
        raise FeedParseError("not a feed: the document is empty")
    text, encoding, errors = decode_document(body, content_type)
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return parse_json_feed(text, url, encoding, errors, fetched_at)
    if not stripped.startswith("<") and "<" not in stripped[:4096]:
        raise FeedParseError("not a feed: neither XML nor JSON")

    # lxml reads UTF-8 bytes; an ASCII document read as ASCII needs no re-encoding.
    document = load_xml(text, body if len(body) == len(text) and body.isascii() else None)
    errors.extend(document.errors)
    feed_root = find_feed_root(document.root) if document.root is not None else None
    exact: ParsedFeed | None = None
    if feed_root is not None:
        kind = FEED_ROOTS[element_key(feed_root)]
        reader = TreeReader(feed_root, kind, url, document.source, errors, fetched_at)
        exact = reader.read()
        exact.encoding = encoding
    if document.source is not None:  # parsed strictly, perhaps after repair: nothing is missing
        if exact is None:
            name = element_key(document.root) if document.root is not None else "?"
            raise FeedParseError(f"not a feed: the document's root element is <{name}>")
        return exact
    if (
        document.root is not None
        and element_key(document.root) in ("html", "xhtml:html")
        and exact is None
    ):
        raise FeedParseError("not a feed: an HTML page")

    read = len(exact.entries) + exact.skipped_empty if exact is not None else 0
    if exact is not None and read >= len(_ENTRY_START_TAG.findall(text)):
        return exact  # lxml recovered every entry the text starts; feedparser cannot do better
    # feedparser gets the text as we decoded it, so both readings agree on the characters.
    loose = read_with_feedparser(
        text.encode("utf-8", "surrogatepass"), url, "application/xml; charset=utf-8", fetched_at
    )
    if loose is not None and (exact is None or len(loose.entries) > read):
        feed = merge_readings(exact, loose) if exact is not None else loose
        kept = [entry for entry in feed.entries if not is_empty_entry(entry)]
        feed.skipped_empty, feed.entries = len(feed.entries) - len(kept), kept
        feed.encoding = encoding
        feed.errors = errors
        errors.append("entries read with feedparser's loose parser; markup may be re-serialized")
        for entry in feed.entries:
            entry.parse_errors = list(errors)
        return feed
    if exact is None:
        raise FeedParseError("not a feed: nothing could be read from the document")
    return exact


_TAGS = re.compile(r"<[^>]*>|&nbsp;|&#160;|\s+")


def is_empty_entry(item: ArticleItem) -> bool:
    """Whether an entry read by feedparser says nothing: no title, link, guid, content,
    summary, media, author, date nor category (the lxml reader judges its own elements:
    :func:`archiver.readers.feeds.tree.says_nothing`)."""
    if item.guid or item.media or (item.title_raw or "").strip():
        return False
    if item.authors_raw or item.published_raw or item.updated_raw or item.categories_raw:
        return False
    if item.url and not item.url.startswith(urldefrag(item.source_url or "")[0] + "#entry-"):
        return False  # it has a link of its own
    return not any(
        html and (_TAGS.sub("", html) or "<img" in html.lower())
        for html in (item.content_html, item.summary_html)
    )

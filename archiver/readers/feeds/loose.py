"""The loose fallback: feedparser reads what lxml cannot, merged with lxml's exact reading."""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import feedparser

from archiver.items import ArticleItem, MediaRef
from archiver.readers.feeds.common import (
    ParsedFeed,
    entry_url,
    fallback_url,
    join_url,
    non_negative_int,
)

logger = logging.getLogger(__name__)


def read_with_feedparser(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> ParsedFeed | None:
    """Read a broken document with feedparser's forgiving parser (markup re-serialized).

    None when feedparser finds neither a feed version nor an entry, or fails itself.
    """
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        # A stream, never bytes: feedparser would open bytes that name a local file.
        result = feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception:  # feedparser's own failure on hostile input must not escape
        logger.debug("feedparser failed on %s", url, exc_info=True)
        return None
    version = str(result.get("version") or "")
    if not version and not result.entries:
        return None
    kind = (
        "atom" if version.startswith("atom") else "rdf" if version in ("rss090", "rss10") else "rss"
    )
    meta = result.feed
    title = meta.get("title")
    feed = ParsedFeed(
        kind=kind,
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        link=join_url(url, meta["link"]) if isinstance(meta.get("link"), str) else None,
        language=meta.get("language") if isinstance(meta.get("language"), str) else None,
        encoding=None,
        ttl=non_negative_int(meta.get("ttl")),
    )
    for entry in result.entries:
        feed.entries.append(_feedparser_entry(entry, feed, url, fetched_at))
    return feed


def _feedparser_entry(
    entry: Mapping[str, Any], feed: ParsedFeed, url: str, fetched_at: datetime | None
) -> ArticleItem:
    def string(name: str) -> str | None:
        value = entry.get(name)
        return value if isinstance(value, str) else None

    link = string("link")
    link = join_url(url, link) if link and link.strip() else None
    guid = string("id")
    guid = guid.strip() if guid and guid.strip() else None
    authors = [
        name.strip()
        for person in entry.get("authors") or []
        if isinstance(person, Mapping)
        if isinstance(name := person.get("name") or person.get("email"), str) and name.strip()
    ]
    categories = [
        term.strip()
        for tag in entry.get("tags") or []
        if isinstance(tag, Mapping)
        if isinstance(term := tag.get("term") or tag.get("label"), str) and term.strip()
    ]
    contents = entry.get("content") or []
    content = next(
        (c.get("value") for c in contents if isinstance(c, Mapping) and c.get("value")), None
    )
    summary = string("summary")
    media: list[MediaRef] = []
    for enclosure in entry.get("enclosures") or []:
        if isinstance(enclosure, Mapping) and isinstance(enclosure.get("href"), str):
            media.append(
                MediaRef(
                    url=join_url(url, enclosure["href"]),
                    role="enclosure",
                    media_type=enclosure.get("type") or None,
                    length=non_negative_int(enclosure.get("length")),
                )
            )
    for name, role in (("media_content", "media:content"), ("media_thumbnail", "media:thumbnail")):
        for medium in entry.get(name) or []:
            if isinstance(medium, Mapping) and isinstance(medium.get("url"), str):
                media.append(
                    MediaRef(
                        url=join_url(url, medium["url"]),
                        role=role,
                        media_type=medium.get("type") or None,
                        width=non_negative_int(medium.get("width")),
                        height=non_negative_int(medium.get("height")),
                        length=non_negative_int(medium.get("fileSize")),
                    )
                )
    published = string("published")
    title = string("title")
    return ArticleItem(
        url=entry_url(url, link, guid, None)
        or fallback_url(url, guid, title, published, summary, content),
        source_url=url,
        source_kind=feed.kind,
        fetched_at=fetched_at,
        guid=guid,
        title_raw=title,
        authors_raw=authors,
        published_raw=published,
        updated_raw=string("updated"),
        summary_html=summary,
        content_html=content if isinstance(content, str) else summary,
        categories_raw=categories,
        media=media,
        language_raw=feed.language,
        feed_title=feed.title,
        feed_link=feed.link,
    )


def _match_key(item: ArticleItem) -> tuple[str | None, str | None, str]:
    title = " ".join(html.unescape(item.title_raw or "").split())
    return (item.guid, item.url, title)


def merge_readings(exact: ParsedFeed, loose: ParsedFeed) -> ParsedFeed:
    """feedparser found more entries than lxml recovered: keep its list, but take each
    entry's exact markup and media from the lxml reading when one matches by id, link or title
    and is not visibly truncated."""
    by_guid = {e.guid: e for e in exact.entries if e.guid}
    by_url = {e.url: e for e in exact.entries}
    by_title = {_match_key(e)[2]: e for e in exact.entries if e.title_raw}
    for entry in loose.entries:
        guid, url, title = _match_key(entry)
        twin = (by_guid.get(guid) if guid else None) or by_url.get(url or "") or by_title.get(title)
        if twin is None:
            continue
        for name in ("content_html", "summary_html"):
            mine, theirs = getattr(twin, name), getattr(entry, name)
            if mine and (not theirs or len(mine) >= 0.9 * len(theirs)):
                setattr(entry, name, mine)
        entry.media = twin.media or entry.media
        entry.guid = entry.guid or twin.guid
    loose.title = loose.title or exact.title
    loose.link = loose.link or exact.link
    loose.language = loose.language or exact.language
    loose.ttl = loose.ttl if loose.ttl is not None else exact.ttl
    return loose

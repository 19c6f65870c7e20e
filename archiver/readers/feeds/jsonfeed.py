"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) to a ParsedFeed."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from archiver.errors import FeedParseError
from archiver.items import ArticleItem, MediaRef
from archiver.readers.feeds.common import (
    ParsedFeed,
    entry_url,
    fallback_url,
    join_url,
    non_negative_int,
)


def _json_str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _json_authors(container: Mapping[str, Any]) -> list[str]:
    """JSON Feed 1.1 ``authors`` (a list), else 1.0 ``author`` (one object)."""
    people = container.get("authors")
    if not isinstance(people, list):
        people = [container.get("author")]
    names: list[str] = []
    for person in people:
        if isinstance(person, Mapping):
            name = _json_str(person.get("name")) or _json_str(person.get("url"))
        else:
            name = _json_str(person)
        if name and name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names


def parse_json_feed(
    text: str, url: str, encoding: str, errors: list[str], fetched_at: datetime | None
) -> ParsedFeed:
    """A decoded JSON Feed document read into a ParsedFeed; ``errors`` are the decoder's so far.

    Raises ``FeedParseError`` when the text is not JSON, or JSON that is no feed; a feed with
    odd parts (no version, an item that is no object) is read, its problems in ``errors``.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FeedParseError(f"not a feed: invalid JSON ({error})") from error
    if not isinstance(document, dict):
        raise FeedParseError("not a feed: the JSON document is not an object")
    version = _json_str(document.get("version")) or ""
    items = document.get("items")
    if "jsonfeed.org/version/" not in version:
        if not isinstance(items, list):
            raise FeedParseError("not a feed: JSON without a JSON Feed version or items")
        errors.append("JSON Feed version missing or unknown")
    if not isinstance(items, list):
        errors.append("JSON Feed without an items list")
        items = []

    title = _json_str(document.get("title"))
    home = _json_str(document.get("home_page_url"))
    language = _json_str(document.get("language"))
    feed_authors = _json_authors(document)
    feed = ParsedFeed(
        kind="json",
        title=title.strip() if title and title.strip() else None,
        link=join_url(url, home) if home and home.strip() else None,
        language=language.strip() if language and language.strip() else None,
        encoding=encoding,
        ttl=None,
        errors=errors,
    )
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(f"item {position} is not an object; skipped")
            continue
        if not any(_says_something(value) for value in item.values()):
            feed.skipped_empty += 1  # {} or only blanks: nothing to archive
            continue
        feed.entries.append(_json_item(item, feed, feed_authors, url, fetched_at))
    for entry in feed.entries:
        entry.parse_errors = list(errors)
    return feed


def _json_item(
    item: Mapping[str, Any],
    feed: ParsedFeed,
    feed_authors: list[str],
    url: str,
    fetched_at: datetime | None,
) -> ArticleItem:
    guid = _json_str(item.get("id"))
    link = _json_str(item.get("url")) or _json_str(item.get("external_url"))
    link = join_url(url, link) if link and link.strip() else None
    summary = _json_str(item.get("summary"))
    content_html = _json_str(item.get("content_html"))
    media: list[MediaRef] = []
    for role in ("image", "banner_image"):
        href = _json_str(item.get(role))
        if href and href.strip():
            media.append(MediaRef(url=join_url(url, href), role=role))
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if not isinstance(attachment, Mapping):
            continue
        href = _json_str(attachment.get("url"))
        if href and href.strip():
            media.append(
                MediaRef(
                    url=join_url(url, href),
                    role="attachment",
                    media_type=_json_str(attachment.get("mime_type")),
                    length=non_negative_int(attachment.get("size_in_bytes")),
                )
            )
    tags = item.get("tags")
    categories = (
        [t.strip() for t in tags if isinstance(t, str) and t.strip()]
        if isinstance(tags, list)
        else []
    )
    language = _json_str(item.get("language"))
    title = _json_str(item.get("title"))
    published = _json_str(item.get("date_published"))
    return ArticleItem(
        url=entry_url(url, link, guid, None)
        or fallback_url(url, guid, title, published, summary, content_html),
        source_url=url,
        source_kind="json",
        fetched_at=fetched_at,
        guid=guid,
        title_raw=title,
        authors_raw=_json_authors(item) or list(feed_authors),
        published_raw=published.strip() if published and published.strip() else None,
        updated_raw=(_json_str(item.get("date_modified")) or "").strip() or None,
        summary_html=summary,
        content_html=content_html if content_html is not None else summary,
        content_text_raw=_json_str(item.get("content_text")),
        categories_raw=categories,
        media=media,
        language_raw=language.strip() if language and language.strip() else feed.language,
        feed_title=feed.title,
        feed_link=feed.link,
    )


def _says_something(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_MARKUP_ONLY.sub("", value))
    if isinstance(value, dict):
        return any(_says_something(v) for v in value.values())
    if isinstance(value, list):
        return any(_says_something(v) for v in value)
    return value is not None and value is not False


_MARKUP_ONLY = re.compile(r"</?(?:p|div|span|br|b|i|em|strong)\s*/?>|&nbsp;|&#160;|\s+", re.I)
"""Whitespace and the empty wrappers a blank body is made of (``<p></p>``, ``<br>``)."""

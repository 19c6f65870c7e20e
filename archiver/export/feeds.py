"""Archived articles out as a feed: Atom 1.0 (RFC 4287) and JSON Feed 1.1, with full content.

Pure: article dicts (as ``archive.articles.get`` and ``export`` give them) in, bytes out.
Every body leaves through the one sanitizer (:func:`archiver.render.sanitize_html`) after its
archived images were pointed at the archive's copies (absolute URLs, given by the caller's
image map), so a reader of the feed shows them without reaching the publisher. The serve
command's ``/feed.atom`` and ``/feed.json`` and ``archiver export --format atom|jsonfeed``
both write through here. The archiver's own feed reader and feedparser read every field
written back: ``tests/test_web_feeds.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from archiver.media.rewrite import rewrite_images
from archiver.render import sanitize_html

ATOM = "http://www.w3.org/2005/Atom"
MEDIA = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "feed-archiver"
FEED_FORMATS = ("atom", "jsonfeed")
FILE_NAMES = {"atom": "feed.atom", "jsonfeed": "feed.json"}
MEDIA_TYPES = {"atom": "application/atom+xml", "jsonfeed": "application/feed+json"}

ImageMap = Callable[[Mapping[str, Any]], dict[str, str]]
"""An article's images to what the feed shows instead: image URL (and ``src`` as written)
-> the absolute URL of the archive's copy."""


@dataclass
class FeedInfo:
    """What a feed says of itself."""

    title: str
    feed_url: str
    """Where this feed is read from (its ``self`` link, and the Atom feed's id)."""
    home_url: str
    """The page it stands for (the reader's search page, or the exported site)."""
    description: str | None = None


@dataclass
class FeedEntry:
    """One article as a feed entry: every value ready to write."""

    id: str
    url: str
    title: str
    published: datetime | None
    updated: datetime | None
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    summary_html: str = ""
    content_html: str = ""
    image: str | None = None
    language: str | None = None
    extension: dict[str, Any] = field(default_factory=dict)
    """The archive's own keys (JSON Feed ``_archiver``): its id, source, categories, tags."""


def feed_entry(article: Mapping[str, Any], images: Mapping[str, str]) -> FeedEntry:
    """*article* (the detail dict of ``archiver show --format json``) as a feed entry, its
    body and summary sanitized, its archived images shown through *images*."""
    base = article.get("base_url") or article.get("url")
    body = article.get("content_html") or article.get("summary_html") or ""
    summary = article.get("summary_html") or ""
    head = article.get("headimg")
    categories = list(article.get("categories") or [])
    tags = [t for t in article.get("tags") or [] if t not in categories]
    return FeedEntry(
        id=article.get("guid_raw") or article.get("canonical_url") or article["url"],
        url=article["url"],
        title=article.get("title") or "",
        published=_when(article.get("published")),
        updated=_when(article.get("updated")),
        authors=list(article.get("authors") or []),
        categories=categories + tags,
        summary_html=sanitize_html(rewrite_images(summary, images, base_url=base)),
        content_html=sanitize_html(rewrite_images(body, images, base_url=base)),
        image=images.get(head, head) if head else None,
        language=article.get("language"),
        extension={
            "id": article.get("id"),
            "source": article.get("source"),
            "categories": categories,
            "tags": list(article.get("tags") or []),
            "origin_url": article.get("origin_url"),
        },
    )


def archive_images(
    article: Mapping[str, Any], prefix: str, *, by: str = "sha256"
) -> dict[str, str]:
    """The image map of *article* (its archived images only): each image's URL and ``src``
    -> *prefix* + its sha256 (``by="sha256"``, the reader's ``/media/<sha256>``) or + its
    path in the media directory (``by="path"``, a static export's copies)."""
    mapping: dict[str, str] = {}
    for image in article.get("images") or []:
        if image.get("status") not in ("downloaded", "cached") or not image.get(by):
            continue
        target = prefix + str(image[by])
        for key in (image.get("url"), image.get("src")):
            if key:
                mapping.setdefault(key, target)
    return mapping


def write_feed(fmt: str, info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """The feed of *entries* in *fmt* (``atom`` or ``jsonfeed``)."""
    if fmt == "atom":
        return atom_feed(info, entries)
    if fmt == "jsonfeed":
        return json_feed(info, entries)
    raise ValueError(f"unknown feed format {fmt!r}")


def atom_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """An Atom 1.0 document (RFC 4287): ``content`` and ``summary`` as escaped HTML,
    ``published`` and ``updated`` (``updated`` is required: the published date stands in),
    the head image as Media RSS ``media:content``."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "media": MEDIA})
    _text(root, "id", info.feed_url)
    _text(root, "title", info.title)
    if info.description:
        _text(root, "subtitle", info.description)
    _text(root, "updated", _iso(_feed_updated(entries)))
    etree.SubElement(root, f"{{{ATOM}}}link", rel="self", href=info.feed_url)
    if info.home_url:
        etree.SubElement(root, f"{{{ATOM}}}link", rel="alternate", href=info.home_url)
    _text(root, "generator", GENERATOR)
    for entry in entries:
        element = etree.SubElement(root, f"{{{ATOM}}}entry")
        if entry.language:
            element.set(XML_LANG, entry.language)
        _text(element, "id", entry.id)
        _text(element, "title", entry.title)
        etree.SubElement(element, f"{{{ATOM}}}link", rel="alternate", href=entry.url)
        if entry.published:
            _text(element, "published", _iso(entry.published))
        _text(element, "updated", _iso(entry.updated or entry.published or _EPOCH))
        for name in entry.authors:
            author = etree.SubElement(element, f"{{{ATOM}}}author")
            _text(author, "name", name)
        for term in entry.categories:
            etree.SubElement(element, f"{{{ATOM}}}category", term=term)
        if entry.summary_html:
            _text(element, "summary", entry.summary_html).set("type", "html")
        _text(element, "content", entry.content_html).set("type", "html")
        if entry.image:
            etree.SubElement(element, f"{{{MEDIA}}}content", url=entry.image, medium="image")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)  # type: ignore[no-any-return]


def json_feed(info: FeedInfo, entries: Sequence[FeedEntry]) -> bytes:
    """A JSON Feed 1.1 document (https://www.jsonfeed.org/version/1.1/), with the archive's
    own keys under ``_archiver`` (the spec's extension prefix)."""
    items = []
    for entry in entries:
        item: dict[str, Any] = {"id": entry.id, "url": entry.url, "title": entry.title}
        item["content_html"] = entry.content_html
        if entry.summary_html:
            item["summary"] = entry.summary_html
        if entry.image:
            item["image"] = entry.image
        if entry.published:
            item["date_published"] = _iso(entry.published)
        if entry.updated:
            item["date_modified"] = _iso(entry.updated)
        if entry.authors:
            item["authors"] = [{"name": name} for name in entry.authors]
        if entry.categories:
            item["tags"] = list(entry.categories)
        if entry.language:
            item["language"] = entry.language
        item["_archiver"] = entry.extension
        items.append(item)
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        **({"home_page_url": info.home_url} if info.home_url else {}),
        "feed_url": info.feed_url,
    }
    if info.description:
        document["description"] = info.description
    document["items"] = items
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def feed_entries(articles: Iterable[Mapping[str, Any]], images: ImageMap) -> list[FeedEntry]:
    """Every article of *articles* as an entry, its images mapped by *images*."""
    return [feed_entry(article, images(article)) for article in articles]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _feed_updated(entries: Sequence[FeedEntry]) -> datetime:
    stamps = [stamp for e in entries if (stamp := e.updated or e.published) is not None]
    return max(stamps, default=_EPOCH)


def _text(parent: Any, name: str, value: str) -> Any:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = _xml_safe(value)
    return element


def _xml_safe(value: str) -> str:
    """*value* without the characters XML 1.0 cannot carry (control characters)."""
    return "".join(
        ch
        for ch in value
        if ch in "\t\n\r" or "\x20" <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch > "\uffff"
    )


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

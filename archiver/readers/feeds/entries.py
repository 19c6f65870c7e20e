"""One RSS item or Atom entry to an ArticleItem: its identity, links, people, dates and content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from archiver.items import ArticleItem
from archiver.readers.feeds.common import Element, ParsedFeed, entry_url, fallback_url, join_url
from archiver.readers.feeds.enclosures import media_titles, read_media
from archiver.readers.feeds.markup import MarkupReader, element_text
from archiver.readers.feeds.names import (
    AUTHOR_KEYS,
    CONTENT_KEYS,
    ENCLOSURE_RELS,
    ENTRY_SLOTS,
    HTML_TYPES,
    PUBLISHED_KEYS,
    RDF_ABOUT,
    SUMMARY_KEYS,
    UPDATED_KEYS,
    XML_LANG,
    element_key,
)

_Slots = Mapping[str, list[Element]]
"""An entry's children sorted by what they say (``title``, ``id``, ``media``...)."""


class EntryReader:
    """Reads the entries of one parsed tree, for the feed ``markup`` reads the pieces of."""

    def __init__(
        self,
        markup: MarkupReader,
        kind: str,
        errors: list[str],
        fetched_at: datetime | None,
    ) -> None:
        self.markup = markup
        self.kind = kind
        self.url = markup.url
        self.errors = errors
        self.fetched_at = fetched_at

    def read(self, entry: Element, feed: ParsedFeed, feed_authors: list[str]) -> ArticleItem:
        """The entry as published, with a URL always set (its link, guid or a stable stand-in).

        ``feed`` lends its title, link and language; ``feed_authors`` stand in for the
        authors an Atom entry and its source leave out.
        """
        base = self.markup.base(entry)
        slots = _sort_into_slots(entry)
        title_raw = self.title(entry, slots)
        link = self.link(entry, slots, base)
        guid, permalink = _identity(entry, slots)
        authors = self.authors(slots, feed_authors)
        published = _first_text(slots, PUBLISHED_KEYS)
        updated = _updated(entry, slots)
        categories = _categories(slots.get("category", ()))
        summary = self.markup.first_construct(c for key in SUMMARY_KEYS for c in slots.get(key, ()))
        content = self.content(slots)
        language = _language(entry, slots)

        url = entry_url(self.url, link, guid, permalink) or fallback_url(
            self.url, guid, title_raw, published, summary, content
        )
        return ArticleItem(
            url=url,
            source_url=self.url,
            source_kind=self.kind,
            fetched_at=self.fetched_at,
            guid=guid,
            title_raw=title_raw,
            authors_raw=authors,
            published_raw=published,
            updated_raw=updated,
            summary_html=summary,
            content_html=content if content is not None else summary,
            categories_raw=categories,
            media=read_media(slots["media"], base) if "media" in slots else [],
            language_raw=language or feed.language,
            feed_title=feed.title,
            feed_link=feed.link,
            parse_errors=list(self.errors),
        )

    def title(self, entry: Element, slots: _Slots) -> str | None:
        """The entry's title, else (for media entries) the Media RSS title."""
        title = self.markup.first_construct(slots.get("title", ()))
        if title is None and ("media" in slots or "media:title" in slots):
            title = self.markup.first_construct(media_titles(entry))
        return title

    def link(self, entry: Element, slots: _Slots, base: str) -> str | None:
        """The entry's page: its alternate link, else CDF's ``href`` attribute."""
        link = self.markup.link(slots.get("link", ()), base)
        if link is None:
            href = entry.get("HREF") or entry.get("href")  # CDF
            if href:
                link = join_url(base, href)
        return link

    def authors(self, slots: _Slots, feed_authors: list[str]) -> list[str]:
        """The entry's authors; an Atom entry without any takes its source's, else the feed's."""
        authors = self.markup.authors(slots.get("author", ()))
        if not authors and self.kind == "atom":
            source = slots.get("source")
            if source:
                authors = self.markup.authors(c for c in source[0] if element_key(c) in AUTHOR_KEYS)
            authors = authors or list(feed_authors)
        return authors

    def content(self, slots: _Slots) -> str | None:
        """The full content: ``content:encoded``, Atom ``content`` (HTML first), XHTML body."""
        for key in CONTENT_KEYS:
            elements = slots.get(key)
            if not elements:
                continue
            if key == "content":
                # Out-of-line content (``src``, RFC 4287 §4.1.3.2) carries no markup here.
                elements = [
                    c for c in elements if not c.get("src") or len(c) or element_text(c).strip()
                ]
                elements.sort(key=lambda c: (c.get("type") or "").strip().lower() not in HTML_TYPES)
            value = self.markup.first_construct(elements)
            if value is not None:
                return value
        return None


def _sort_into_slots(entry: Element) -> dict[str, list[Element]]:
    """One pass over the entry's children, sorted into slots; each slot keeps document order."""
    slots: dict[str, list[Element]] = {}
    for child in entry:
        key = element_key(child)
        slot = ENTRY_SLOTS.get(key)
        if slot is None:
            continue
        slots.setdefault(slot, []).append(child)
        if key == "link" and (child.get("rel") or "").strip().lower() in ENCLOSURE_RELS:
            slots.setdefault("media", []).append(child)
    return slots


def _identity(entry: Element, slots: _Slots) -> tuple[str | None, bool | None]:
    """The entry's guid (RSS ``guid``, Atom ``id``, RDF ``about``) and its ``isPermaLink``."""
    for element in slots.get("id", ()):
        value = element_text(element).strip()
        if value:
            flag = (element.get("isPermaLink") or "").strip().lower()
            return value, True if flag == "true" else False if flag == "false" else None
    about = entry.get(RDF_ABOUT)
    return (about.strip() if about and about.strip() else None), None


def _first_text(slots: _Slots, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for element in slots.get(key, ()):
            value = element_text(element).strip()
            if value:
                return value
    return None


def _updated(entry: Element, slots: _Slots) -> str | None:
    updated = _first_text(slots, UPDATED_KEYS)
    if updated is None:
        lastmod = entry.get("LASTMOD") or entry.get("lastmod")  # CDF
        updated = lastmod.strip() if lastmod and lastmod.strip() else None
    return updated


def _categories(elements: Iterable[Element]) -> list[str]:
    categories: list[str] = []
    for element in elements:
        value = element.get("term")  # Atom: term, else label; RSS and dc:subject: text
        if value is None or not value.strip():
            value = element.get("label")
        if value is None or not value.strip():
            value = element_text(element)
        if value.strip():
            categories.append(value.strip())
    return categories


def _language(entry: Element, slots: _Slots) -> str | None:
    language = entry.get(XML_LANG)
    if language is not None and language.strip():
        return language.strip()  # type: ignore[no-any-return]
    return next((t for c in slots.get("language", ()) if (t := element_text(c).strip())), None)

"""The XML reader: one parsed RSS/RDF/Atom/CDF tree to a ParsedFeed, metadata then entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints; stubs are not a dependency

from archiver.readers.feeds.common import Element, ParsedFeed, join_url, non_negative_int
from archiver.readers.feeds.entries import EntryReader
from archiver.readers.feeds.markup import MarkupReader, element_text
from archiver.readers.feeds.names import (
    AUTHOR_KEYS,
    CONTAINERS,
    ENTRY_KEYS,
    FEED_ROOTS,
    TITLE_KEYS,
    XML_LANG,
    element_key,
)
from archiver.readers.feeds.recovery import SourceText


def find_feed_root(root: Element) -> Element | None:
    """The feed element of a document (its root, or one nested in a wrapper), or None."""
    if element_key(root) in FEED_ROOTS:
        return root
    if element_key(root) == "html" or element_key(root) == "xhtml:html":
        return None
    for element in root.iter(etree.Element):
        if element_key(element) in FEED_ROOTS:
            return element
    return None


class TreeReader:
    """Reads one parsed RSS/RDF/Atom/CDF tree into a ParsedFeed."""

    def __init__(
        self,
        root: Element,
        kind: str,
        url: str,
        source: SourceText | None,
        errors: list[str],
        fetched_at: datetime | None,
    ) -> None:
        self.root = root
        self.kind = kind
        self.markup = MarkupReader(url, source)
        self.entries = EntryReader(self.markup, kind, errors, fetched_at)
        self.errors = errors

    def read(self) -> ParsedFeed:
        """The feed's own metadata (from its channel for RSS and RDF), then every entry."""
        feed_element = self.root
        if self.kind in ("rss", "rdf") and element_key(self.root) != "channel":
            channel = next((c for c in self.root if element_key(c) == "channel"), None)
            if channel is not None:
                feed_element = channel
        children = [(element_key(child), child) for child in feed_element]
        feed_base = self.markup.base(feed_element)

        title = self.markup.first_construct(c for k, c in children if k in TITLE_KEYS)
        link = self.markup.link((c for k, c in children if k == "link"), feed_base)
        if link is None and self.kind == "rss":
            href = feed_element.get("HREF") or feed_element.get("href")  # CDF
            if href:
                link = join_url(feed_base, href)
        language = next(
            (
                text
                for key, child in children
                if key in ("language", "dc:language")
                if (text := element_text(child).strip())
            ),
            None,
        ) or _inherited_language(feed_element)
        ttl = next((non_negative_int(element_text(c)) for k, c in children if k == "ttl"), None)
        feed_authors = (
            self.markup.authors(c for k, c in children if k in AUTHOR_KEYS)
            if self.kind == "atom"
            else []
        )

        feed = ParsedFeed(
            kind=self.kind,
            title=title.strip() if title else None,
            link=link,
            language=language,
            encoding=None,
            ttl=ttl,
            errors=self.errors,
        )
        for entry in _entry_elements(self.root):
            if says_nothing(entry):
                feed.skipped_empty += 1  # an empty <item> would be archived as the feed's URL
                continue
            feed.entries.append(self.entries.read(entry, feed, feed_authors))
        return feed


def says_nothing(entry: Element) -> bool:
    """Whether an entry holds no text and no attribute anywhere in it (``<item></item>``,
    ``<entry><title> </title></entry>``): it has no title, link, guid, content, summary nor
    anything else to archive. Markup of only tags (``&lt;p&gt;&lt;/p&gt;``) counts as none."""
    for element in entry.iter():
        if any(_says_something(name) for name in element.attrib):
            return False
        for text in (element.text, element.tail if element is not entry else None):
            if text and _MARKUP_ONLY.sub("", text):
                return False
    return True


def _says_something(attribute: str) -> bool:
    """Whether an attribute carries data (``href``, ``url``, ``rdf:about``), not only how to
    read the element (``type``, ``mode``, ``isPermaLink``, ``xml:lang``, a namespace)."""
    return attribute not in _FORM_ATTRIBUTES and not attribute.startswith(
        "{http://www.w3.org/XML/1998/namespace}"
    )


_FORM_ATTRIBUTES = frozenset({"type", "mode", "isPermaLink", "version"})
_MARKUP_ONLY = re.compile(r"</?(?:p|div|span|br|b|i|em|strong)\s*/?>|&nbsp;|&#160;|\s+", re.I)
"""Whitespace and the empty wrappers a blank body is made of (``<p></p>``, ``<br>``)."""


def _entry_elements(container: Element) -> Iterator[Element]:
    for child in container:
        key = element_key(child)
        if key in ENTRY_KEYS:
            yield child
        elif key in CONTAINERS:
            yield from _entry_elements(child)


def _inherited_language(element: Element) -> str | None:
    node = element
    while node is not None:
        value = node.get(XML_LANG)
        if value is not None and value.strip():
            return value.strip()  # type: ignore[no-any-return]
        node = node.getparent()
    return None

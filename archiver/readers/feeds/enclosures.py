"""An entry's media: RSS enclosures, Atom enclosure links and Media RSS, with their sizes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from archiver.items import MediaRef
from archiver.readers.feeds.common import Element, join_url, non_negative_int
from archiver.readers.feeds.markup import child_base
from archiver.readers.feeds.names import MEDIA_RSS_KEYS, element_key


def read_media(elements: Iterable[Element], entry_base: str) -> list[MediaRef]:
    """Enclosures, Atom enclosure links and Media RSS, in document order, each URL once per role.

    ``entry_base`` is the base URI in effect at the entry; Media RSS groups may set their own.
    """
    found: list[MediaRef] = []
    seen: set[tuple[str, str]] = set()

    def add(element: Element, href: str | None, role: str, **sizes: int | None) -> None:
        if href is None or not href.strip():
            return
        url = join_url(child_base(element, bases.get(element.getparent(), entry_base)), href)
        if (url, role) in seen:
            return
        seen.add((url, role))
        media_type = (element.get("type") or "").strip() or None
        found.append(MediaRef(url=url, role=role, media_type=media_type, **sizes))

    bases: dict[Element, str] = {}  # Media RSS groups may carry their own xml:base

    def visit(element: Element) -> None:
        key = element_key(element)
        if key == "enclosure":
            href = element.get("url") or element.get("href")
            add(element, href, "enclosure", length=non_negative_int(element.get("length")))
        elif key == "link":
            length = non_negative_int(element.get("length"))
            add(element, element.get("href"), "enclosure", length=length)
        elif key == "media:content":
            add(
                element,
                element.get("url"),
                "media:content",
                width=non_negative_int(element.get("width")),
                height=non_negative_int(element.get("height")),
                length=non_negative_int(element.get("fileSize")),
            )
        elif key == "media:thumbnail":
            add(
                element,
                element.get("url"),
                "media:thumbnail",
                width=non_negative_int(element.get("width")),
                height=non_negative_int(element.get("height")),
            )
        if key in MEDIA_RSS_KEYS and len(element):
            bases[element] = child_base(element, bases.get(element.getparent(), entry_base))
            for child in element:
                if element_key(child) in MEDIA_RSS_KEYS:
                    visit(child)

    for element in elements:
        visit(element)
    return found


def media_titles(container: Element) -> Iterator[Element]:
    """The ``media:title`` elements of an entry, nested Media RSS groups included."""
    for child in container:
        key = element_key(child)
        if key == "media:title":
            yield child
        elif key in MEDIA_RSS_KEYS:
            yield from media_titles(child)

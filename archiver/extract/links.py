"""The page's links put back into an extracted body, where the extractor's own would cost text.

trafilatura with ``include_links`` splits paragraphs around links in many pages (the text
of a ``<div>`` becomes several ``<p>``), which loses main text; extracted without links, the
text is whole. The links are then found again: a link of the page whose surrounding block's
text is part of the extracted text is wrapped around the same words there, in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

_Element = Any
"""An lxml element (lxml has no type hints)."""

_BLOCKS = frozenset(
    {"p", "li", "td", "th", "dd", "dt", "div", "blockquote", "figcaption", "section", "article"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "pre"}
)
_MIN_CONTEXT = 20
"""A link counts only when the text around it (its block) is at least this long and found
in the extracted text: navigation ("Home", "Next") never is."""
_LINK_SCHEMES = ("http", "https", "mailto")


def page_links(root: _Element, base_url: str, extracted_text: str) -> list[tuple[str, str]]:
    """The ``(text, absolute URL)`` of the page's links that stand in the extracted text, in
    page order."""
    haystack = _squash(extracted_text)
    in_text: dict[_Element, bool] = {}  # by block: whether its text is in the extracted text
    links = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        block = next((a for a in anchor.iterancestors() if a.tag in _BLOCKS), None)
        if block is None:
            continue
        if block not in in_text:
            context = _squash("".join(block.itertext()))
            in_text[block] = len(context) >= _MIN_CONTEXT and context[:200] in haystack
        text = " ".join("".join(anchor.itertext()).split())
        if not in_text[block] or len(text) < 2:
            continue
        try:
            url = urljoin(base_url, href)
            if urlsplit(url).scheme not in _LINK_SCHEMES:
                continue
        except ValueError:  # "http://[not-an-address]/": no link to keep
            continue
        links.append((text, url))
    return links


def relink(container: _Element, links: list[tuple[str, str]]) -> int:
    """Wrap each link's text, in order, where it next appears in *container*'s text (never
    inside an existing link); how many were placed."""
    placed = 0
    after: tuple[_Element, str] | None = None
    for text, url in links:
        for element, slot in _slots_after(container, after):
            value = getattr(element, slot) or ""
            index = value.find(text)
            if index < 0:
                continue
            anchor = etree.Element("a", href=url)
            anchor.text = text
            anchor.tail = value[index + len(text) :]
            setattr(element, slot, value[:index])
            if slot == "text":
                element.insert(0, anchor)
            else:
                parent = element.getparent()
                parent.insert(parent.index(element) + 1, anchor)
            after = (anchor, "tail")
            placed += 1
            break
    return placed


def _slots_after(
    container: _Element, after: tuple[_Element, str] | None
) -> Iterator[tuple[_Element, str]]:
    """The text slots (``text`` of an element, ``tail`` of a child) of *container* in
    document order, from just after *after* on; none inside a link."""
    started = after is None
    for slot in _slots(container, inside_link=False, top=True):
        started = started or slot == after
        if started:
            yield slot


def _slots(
    element: _Element, *, inside_link: bool, top: bool = False
) -> Iterator[tuple[_Element, str]]:
    link = inside_link or element.tag == "a"
    if not link:
        yield element, "text"
    for child in element:
        if isinstance(child.tag, str):
            yield from _slots(child, inside_link=link)
    if not top and not inside_link:
        yield element, "tail"


def _squash(text: str) -> str:
    return "".join(text.split())

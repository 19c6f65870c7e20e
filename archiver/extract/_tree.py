"""Small edits of lxml trees that the rules and the extractor share."""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

_Element = Any
"""An lxml element (lxml has no type hints)."""


def drop_element(element: _Element) -> None:
    """Take *element* out of its tree, keeping the text that follows it."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def inner_html(element: _Element) -> str:
    """The markup inside *element*, serialized as HTML."""
    parts = [element.text or ""]
    parts.extend(
        etree.tostring(child, encoding="unicode", method="html", with_tail=True)
        for child in element
    )
    return "".join(parts)

"""What any element of a feed tree carries: its base URI, text constructs, links and people."""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints; stubs are not a dependency

from archiver.readers.feeds.common import Element, join_url
from archiver.readers.feeds.names import ALTERNATE_RELS, HTML_TYPES, XML_BASE, element_key
from archiver.readers.feeds.recovery import SourceText

_BINARY_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def child_base(element: Element, parent_base: str) -> str:
    """The base URI at an element whose parent's base is known (XML Base, RFC 3986 §5.1)."""
    value = element.get(XML_BASE)
    if value is None:
        return parent_base
    joined = join_url(parent_base, value)
    # An xml:base never takes a web feed's links off the web (to file:, say).
    scheme, parent_scheme = urlsplit(joined).scheme.lower(), urlsplit(parent_base).scheme.lower()
    if scheme != parent_scheme and scheme not in ("http", "https"):
        return parent_base
    return joined


def element_text(element: Element) -> str:
    """All the character data of an element (markup in it ignored), as lxml decoded it."""
    if len(element) == 0:
        return element.text or ""
    return "".join(part for part in element.itertext() if isinstance(part, str))


class MarkupReader:
    """Reads the pieces the feed and its entries share, for one parsed tree.

    ``url`` is where the document was fetched (the last base for relative links); ``source``
    is the text the tree was parsed from, when markup can be cut out of it exactly.
    """

    def __init__(self, url: str, source: SourceText | None) -> None:
        self.url = url
        self.source = source
        self._bases: dict[Element, str] = {}

    def base(self, element: Element) -> str:
        """The base URI in effect at an element: nested xml:base resolved against the feed URL.

        Memoized per parent, so the entries of a channel share one walk up the tree.
        """
        parent = element.getparent()
        if parent is None:
            parent_base = self.url
        else:
            cached = self._bases.get(parent)
            parent_base = cached if cached is not None else self.base(parent)
            self._bases[parent] = parent_base
        return child_base(element, parent_base)

    def inner_markup(self, element: Element) -> str:
        """The element's content as written; serialized by lxml when it cannot be cut out."""
        exact = self.source.inner(element) if self.source is not None else None
        if exact is not None:
            return exact
        parts = [html.escape(element.text or "", quote=False)]
        parts.extend(etree.tostring(child, encoding="unicode", with_tail=True) for child in element)
        return "".join(parts)

    def construct(self, element: Element) -> str | None:
        """A text construct (title, summary, content) as markup or text, exactly as carried.

        Escaped HTML and CDATA give the element's text after XML's own decoding; inline markup
        (Atom ``type="xhtml"``, unescaped HTML in RSS) gives the markup as written, without
        Atom's wrapping ``<div>``. Base64 content (RFC 4287 §4.1.3.3, Atom 0.3
        ``mode="base64"``) is decoded when it is text, dropped when it is binary.
        """
        content_type = (element.get("type") or "").strip().lower()
        mode = (element.get("mode") or "").strip().lower()
        is_textual = (
            not content_type
            or content_type in HTML_TYPES
            or content_type in ("text", "plain")  # "plain": Media RSS
            or content_type.startswith("text/")
            or content_type.endswith(("+xml", "/xml"))
        )
        if mode == "base64" or not is_textual:
            encoded = (element.text or "").strip()
            try:
                decoded = base64.b64decode(encoded).decode("utf-8")
            except (binascii.Error, ValueError):
                return encoded if is_textual else None
            # Binary content (an image) is no markup; text that was base64-encoded is.
            return None if _BINARY_TEXT.search(decoded) else decoded
        if len(element) == 0:
            return element.text or ""
        target = element
        if content_type == "xhtml":
            children = [child for child in element if isinstance(child.tag, str)]
            if (
                len(children) == 1
                and len(element) == 1
                and element_key(children[0]).rpartition(":")[2] == "div"
                and not (element.text or "").strip()
                and not (children[0].tail or "").strip()
            ):
                target = children[0]
        return self.inner_markup(target)

    def first_construct(self, candidates: Iterable[Element]) -> str | None:
        """The first candidate's construct that says something (text, or markup), else None."""
        for element in candidates:
            value = self.construct(element)
            if value is not None and (value.strip() or len(element)):
                return value
        return None

    def link(self, links: Iterable[Element], base: str) -> str | None:
        """RSS ``<link>`` text, else the Atom ``rel="alternate"`` link (HTML preferred)."""
        alternates: list[tuple[bool, str]] = []
        for element in links:
            href = element.get("href")
            if href is None:
                href = element.get("HREF")
            if href is None:
                text = element_text(element).strip()
                if text:
                    return join_url(child_base(element, base), text)
                continue
            rel = (element.get("rel") or "alternate").strip().lower()
            if rel in ALTERNATE_RELS and href.strip():
                link_type = (element.get("type") or "").strip().lower()
                resolved = join_url(child_base(element, base), href)
                alternates.append(
                    (link_type in ("", "text/html", "application/xhtml+xml"), resolved)
                )
        for is_html, href in alternates:
            if is_html:
                return href
        return alternates[0][1] if alternates else None

    def person(self, element: Element) -> str:
        """An author: RSS text (``a@b.c (Name)``) or an Atom person's name (else email, uri)."""
        if len(element) == 0:
            return (element.text or "").strip()
        parts = {element_key(child): element_text(child).strip() for child in reversed(element)}
        found = parts.get("name") or parts.get("email") or parts.get("uri") or parts.get("url")
        return found or element_text(element).strip()

    def authors(self, elements: Iterable[Element]) -> list[str]:
        """The distinct people among ``elements``, in document order."""
        authors: list[str] = []
        for element in elements:
            name = self.person(element)
            if name and name not in authors:
                authors.append(name)
        return authors

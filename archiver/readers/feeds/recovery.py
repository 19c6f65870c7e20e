"""Repair and recovery of broken XML: strict parse, the usual repairs, lxml's recovering parser."""

from __future__ import annotations

import html
import html.entities
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints; stubs are not a dependency

from archiver.readers.feeds.common import Element

_ERROR_POSITION = re.compile(r",\s*line \d+,\s*column \d+\s*$")
_XML_DECL_START = re.compile(r"<\?xml[\s?]")
_PROLOG = re.compile(
    r"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)*+", re.DOTALL | re.IGNORECASE
)
_FEED_ROOT_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|rdf|channel)[\s>/]", re.IGNORECASE)
_DOCTYPE_ENTITY = re.compile(r"<!ENTITY\s+([^\s%]+)")
_REPAIRS = re.compile(
    r"""(?P<keep><!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)
           |<!DOCTYPE(?:[^\[>]++|\[.*?\])*+>)
       |&(?:\#(?P<dec>[0-9]{1,10});|\#[xX](?P<hex>[0-9a-fA-F]{1,8});|(?P<name>[A-Za-z_][\w.-]*);)?
       |(?P<bad>[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff])""",
    re.DOTALL | re.VERBOSE,
)
_XML_ENTITIES = frozenset({"lt", "gt", "amp", "quot", "apos"})


def _is_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _repair_edits(text: str) -> list[tuple[int, int, str]]:
    """The smallest edits that make a typical broken feed well-formed.

    Junk before the document (a PHP warning, whitespace before ``<?xml``) is dropped; HTML
    entities that XML does not know (``&nbsp;``) become character references; a bare ``&``
    becomes ``&amp;``; characters XML forbids are dropped. CDATA sections, comments and
    processing instructions are left as they are.
    """
    edits: list[tuple[int, int, str]] = []
    root_tag = _FEED_ROOT_TAG.search(text)
    decl = _XML_DECL_START.search(text, 0, root_tag.start() if root_tag else 1 << 16)
    start = 0
    if decl is not None and decl.start() > 0:
        edits.append((0, decl.start(), ""))
        start = decl.start()
    prolog = _PROLOG.match(text, start)
    prolog_end = prolog.end() if prolog else start
    if root_tag is not None and root_tag.start() > prolog_end:
        edits.append((prolog_end, root_tag.start(), ""))
    declared = set(_DOCTYPE_ENTITY.findall(text, 0, 1 << 16)) if "<!DOCTYPE" in text else set()
    for match in _REPAIRS.finditer(text, prolog_end):
        if match.group("keep") is not None:
            continue
        if match.group("bad") is not None:
            edits.append((match.start(), match.end(), ""))
            continue
        number = match.group("dec") or match.group("hex")
        if number is not None:
            code = int(number, 10 if match.group("dec") else 16)
            if not _is_xml_char(code):
                edits.append((match.start(), match.end(), ""))
            elif match.group(0)[2] == "X":  # "&#X41;" is HTML, not XML
                edits.append((match.start(), match.end(), f"&#x{number};"))
            continue
        name = match.group("name")
        if name is None:
            edits.append((match.start(), match.end(), "&amp;"))
        elif name in _XML_ENTITIES or name in declared:
            continue
        else:
            value = html.entities.html5.get(name + ";")
            replacement = (
                "".join(f"&#{ord(char)};" for char in value) if value else "&amp;" + name + ";"
            )
            edits.append((match.start(), match.end(), replacement))
    edits.sort()
    return edits


def _apply_edits(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """Apply sorted, non-overlapping edits; also return (new offset, original offset) anchors."""
    pieces: list[str] = []
    anchors = [(0, 0)]
    position = 0
    new_length = 0
    for start, end, replacement in edits:
        if start < position:
            continue
        pieces.append(text[position:start])
        pieces.append(replacement)
        new_length += start - position + len(replacement)
        position = end
        anchors.append((new_length, position))
    pieces.append(text[position:])
    return "".join(pieces), anchors


def _syntax_message(error: Exception) -> str:
    message = getattr(error, "msg", None) or str(error)
    message = _ERROR_POSITION.sub("", message.strip())
    line = getattr(error, "lineno", None)
    return f"not well-formed (line {line}): {message}" if line else f"not well-formed: {message}"


_MARKUP_TOKEN = re.compile(
    r"""<(?:!--.*?-->
          |!\[CDATA\[.*?\]\]>
          |\?.*?\?>
          |!DOCTYPE(?:[^\[>]++|\[.*?\])*+>
          |/(?P<end>[^\s>]+)\s*>
          |(?P<start>[^\s/>!?]+)(?:[^>"'/]++|"[^"]*+"|'[^']*+'|/(?!>))*+(?P<empty>/)?>)""",
    re.DOTALL | re.VERBOSE,
)


class SourceText:
    """The text lxml parsed, to cut an element's inner markup out exactly as it was written.

    Elements are matched to their tags by document order: the k-th start tag in the text is
    the k-th element of the tree. The index is built on first use, and only when the counts
    agree (a well-formed document without entity-borne markup); otherwise callers fall back
    to serializing.
    """

    def __init__(self, root: Element, parsed: str, original: str, anchors: list[tuple[int, int]]):
        self._root = root
        self._parsed = parsed
        self._original = original
        self._anchor_starts = [new for new, _ in anchors]
        self._anchors = anchors
        self._spans: list[tuple[int, int]] | None = None
        self._index: dict[Element, int] = {}
        self._usable = True

    def _build(self) -> None:
        spans: list[tuple[int, int]] = []
        open_tags: list[tuple[int, str, int]] = []
        for token in _MARKUP_TOKEN.finditer(self._parsed):
            name = token.group("start")
            if name is not None:
                if token.group("empty"):
                    spans.append((token.end(), token.end()))
                else:
                    open_tags.append((len(spans), name, token.end()))
                    spans.append((token.end(), token.end()))
                continue
            end_name = token.group("end")
            if end_name is not None:
                if not open_tags or open_tags[-1][1] != end_name:
                    self._usable = False
                    return
                position, _, inner_start = open_tags.pop()
                spans[position] = (inner_start, token.start())
        elements = list(self._root.iter(etree.Element))
        if open_tags or len(elements) != len(spans):
            self._usable = False
            return
        self._index = {element: position for position, element in enumerate(elements)}
        self._spans = spans

    def _to_original(self, offset: int) -> int:
        anchor = bisect_right(self._anchor_starts, offset) - 1
        new, old = self._anchors[anchor]
        return old + (offset - new)

    def inner(self, element: Element) -> str | None:
        """The markup between the element's start and end tags as written, or None."""
        if self._usable and self._spans is None:
            self._build()
        if not self._usable or self._spans is None:
            return None
        position = self._index.get(element)
        if position is None:
            return None
        start, end = self._spans[position]
        return self._original[self._to_original(start) : self._to_original(end)]


@dataclass
class XmlDocument:
    """A feed's XML as parsed: its tree, the text to slice markup from, what went wrong."""

    root: Element | None
    """The document's root element, or None when nothing could be parsed."""
    source: SourceText | None
    """Set when the tree was parsed strictly (perhaps after repair): complete, and sliceable."""
    errors: list[str]


def _xml_parser(*, recover: bool) -> Any:
    # No DTD loading and no network: a feed is untrusted input (XXE). Internal entities only.
    return etree.XMLParser(
        encoding="utf-8",
        recover=recover,
        no_network=True,
        load_dtd=False,
        resolve_entities="internal",
        huge_tree=False,  # keeps libxml2's limits on depth and entity expansion
        # collect_ids stays on: turning it off makes libxml2 try to fetch the external DTD.
    )


def load_xml(text: str, utf8: bytes | None) -> XmlDocument:
    """Parse strictly; else repair the usual breakage and retry; else let lxml recover.

    ``utf8`` is ``text`` already encoded, when the caller has it. Never raises: a document
    nothing can be made of gives a ``root`` of None, its problems in ``errors``.
    """
    data = utf8 if utf8 is not None else text.encode("utf-8", "surrogatepass")
    try:
        root = etree.fromstring(data, _xml_parser(recover=False))
    except etree.XMLSyntaxError as error:
        first_error = _syntax_message(error)
    else:
        return XmlDocument(root, SourceText(root, text, text, [(0, 0)]), [])

    errors = [first_error]
    edits = _repair_edits(text)
    repaired, anchors = _apply_edits(text, edits)
    repaired_data = repaired.encode("utf-8", "surrogatepass") if edits else data
    if edits:
        try:
            root = etree.fromstring(repaired_data, _xml_parser(recover=False))
        except etree.XMLSyntaxError as error:
            second_error = _syntax_message(error)
            if second_error != first_error:
                errors.append(f"after repair: {second_error}")
        else:
            errors.append("repaired: undeclared entities, bare '&' or junk before the document")
            return XmlDocument(root, SourceText(root, repaired, text, anchors), errors)
    try:
        root = etree.fromstring(repaired_data, _xml_parser(recover=True))
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is not None:
        errors.append("read with lxml's recovering parser; some content may be lost")
    return XmlDocument(root, None, errors)

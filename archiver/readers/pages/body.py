"""Where a page keeps its article's body, cut out of the page exactly as it was written."""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints
from lxml import html as lxml_html

_Element = Any
"""An lxml element (lxml has no type hints)."""

CONTENT_SELECTORS = (
    ("article", "//article[not(ancestor::article)]"),
    ("articleBody", "//*[contains(concat(' ', normalize-space(@itemprop), ' '), ' articleBody ')]"),
    ("#js_content", "//*[@id='js_content']"),  # WeChat (mp.weixin.qq.com)
    (
        ".rich_media_content",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' rich_media_content ')]",
    ),
    ("main", "//main"),
)
"""Where an article's body is looked for, in order: the first selector that matches an element
with text or an image wins (among several matches, the one with the most text). When none
does, the element with the most paragraph text is taken (see ``_densest``)."""

# Elements whose content is text up to their end tag (as libxml2's HTML parser reads them).
_RAW_TEXT = frozenset(
    {"script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes"}
)
_TOKEN = re.compile(
    r"""<!--.*?(?:--!?>|\Z)
      |</(?P<end>[A-Za-z][^\s/>]*)[^>]*>
      |<(?:[!?]|/(?![A-Za-z]))[^>]*(?:>|\Z)
      |<(?P<start>[A-Za-z][^\s/>]*)
        (?P<attrs>(?:[^>"']++|"[^"]{0,262144}+"|'[^']{0,262144}+')*+)>""",
    re.DOTALL | re.VERBOSE,
)
# Quoted values are bounded (256 KiB, room for data: URIs) so that a page full of unclosed
# quotes costs a bounded scan per tag, not one to the end of the page.


@lru_cache(maxsize=16)
def _raw_text_end(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{re.escape(name)}[\s/>]", re.IGNORECASE)


_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_CHECKED_ATTRIBUTES = ("id", "class", "itemprop")


@dataclass
class _Tag:
    name: str
    start: int
    end: int
    is_end: bool
    attributes: str = ""


class HtmlSource:
    """The decoded page, to cut an element's inner markup out exactly as it was written.

    The page is split into tags (comments, doctypes and the text of ``<script>``, ``<style>``
    and the other raw-text elements skipped, as the parser does). An element of the parsed
    tree is found as the k-th start tag of its name, checked by its ``id``, ``class`` and
    ``itemprop``, else on its source line; its end is the end tag that balances it. The cut is
    used only when it holds as many elements of that name as the tree does, so markup the
    parser had to repair falls back to serializing.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._tags: dict[str, list[_Tag]] | None = None
        self._ordinals: dict[str, dict[_Element, int]] = {}
        self._line_starts: list[int] | None = None

    def _scan(self) -> dict[str, list[_Tag]]:
        tags: dict[str, list[_Tag]] = {}
        text = self.text
        position = 0
        while True:
            token = _TOKEN.search(text, position)
            if token is None:
                break
            position = max(token.end(), token.start() + 1)
            start, end = token.group("start"), token.group("end")
            if start is not None:
                name = start.lower()
                tags.setdefault(name, []).append(
                    _Tag(name, token.start(), token.end(), False, token.group("attrs"))
                )
                if name in _RAW_TEXT:
                    found = _raw_text_end(name).search(text, token.end())
                    position = found.start() if found else len(text)
            elif end is not None:
                name = end.lower()
                tags.setdefault(name, []).append(_Tag(name, token.start(), token.end(), True))
        return tags

    def _ordinal(self, root: _Element, element: _Element) -> int:
        name = element.tag
        if name not in self._ordinals:
            self._ordinals[name] = {e: i for i, e in enumerate(root.iter(name))}
        return self._ordinals[name][element]

    def _line(self, offset: int) -> int:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self.text))]
        return bisect_right(self._line_starts, offset)

    def inner(self, root: _Element, element: _Element) -> str | None:
        """The markup between the element's start and end tags as written, or None."""
        name = element.tag
        if not isinstance(name, str):
            return None
        if self._tags is None:
            self._tags = self._scan()
        tags = self._tags.get(name, [])
        starts = [index for index, tag in enumerate(tags) if not tag.is_end]
        ordinal = self._ordinal(root, element)
        candidates = []
        if len(starts) == len(self._ordinals[name]):
            candidates.append(starts[ordinal])
        line = element.sourceline
        if line:
            candidates.extend(i for i in starts if self._line(tags[i].start) == line)
        for index in candidates:
            if not _same_attributes(tags[index].attributes, element):
                continue
            cut = self._balanced(tags, index, element)
            if cut is not None:
                return cut
        return None

    def _balanced(self, tags: list[_Tag], index: int, element: _Element) -> str | None:
        depth = 0
        for position in range(index, len(tags)):
            tag = tags[position]
            depth += -1 if tag.is_end else 1
            if depth == 0:
                inner_starts = sum(1 for t in tags[index + 1 : position] if not t.is_end)
                descendants = sum(1 for _ in element.iter(element.tag)) - 1
                if inner_starts != descendants:
                    return None
                return self.text[tags[index].end : tag.start]
        return None  # never closed: the parser closed it somewhere the text does not say


def _same_attributes(written: str, element: _Element) -> bool:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(written):
        name = match.group(1).lower()
        if name not in found:
            value = next((v for v in match.group(2, 3, 4) if v is not None), "")
            found[name] = html.unescape(value)
    return all(found.get(name) == element.get(name) for name in _CHECKED_ATTRIBUTES)


def serialized_inner(element: _Element) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    parts.extend(
        lxml_html.tostring(child, encoding="unicode", with_tail=True)
        for child in element
        if isinstance(child.tag, str) or isinstance(child, etree._Comment)
    )
    return "".join(parts)


# -- reading the tree --------------------------------------------------------------------------

_BOILERPLATE = frozenset({"nav", "header", "footer", "aside", "form", "menu"})
_PARAGRAPHS = frozenset({"p", "pre"})
_MIN_PARAGRAPH_CHARS = 20
"""Shorter paragraphs (bylines, captions, buttons) do not count towards density."""


_VISIBLE_TEXT = etree.XPath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template)]"
)


def visible_text(element: _Element) -> str:
    """The element's visible text, whitespace collapsed (scripts and styles left out)."""
    return " ".join("".join(_VISIBLE_TEXT(element)).split())


def has_image(element: _Element) -> bool:
    return next(element.iter("img", "picture", "video", "iframe"), None) is not None


def _densest(body: _Element) -> _Element | None:
    """The element holding the most paragraph text: a simple density heuristic.

    Every ``<p>``/``<pre>`` of at least 20 characters gives its length to its parent and half
    of it to its grandparent; text written directly inside a ``<div>``, ``<td>`` or
    ``<section>`` (paragraphs made of ``<br>``) counts for that element. Paragraphs inside
    ``nav``, ``header``, ``footer``, ``aside``, ``form`` and ``menu`` do not count. The element
    with the highest score wins (the first, on a tie); None when no element scores.
    """
    scores: dict[_Element, float] = {}

    def boilerplate(element: _Element) -> bool:
        return any(a.tag in _BOILERPLATE for a in element.iterancestors())

    for element in body.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag in _PARAGRAPHS:
            length = len(" ".join(element.text_content().split()))
            if length < _MIN_PARAGRAPH_CHARS or boilerplate(element):
                continue
            parent = element.getparent()
            if parent is not None:
                scores[parent] = scores.get(parent, 0) + length
                grandparent = parent.getparent()
                if grandparent is not None:
                    scores[grandparent] = scores.get(grandparent, 0) + length / 2
        elif tag in ("div", "td", "section"):
            own = len((element.text or "").strip()) + sum(
                len((child.tail or "").strip()) for child in element
            )
            if own >= _MIN_PARAGRAPH_CHARS and not boilerplate(element):
                scores[element] = scores.get(element, 0) + own
    if not scores:
        return None
    return max(scores, key=lambda element: scores[element])  # max keeps the first of equals


def content_element(root: _Element, body: _Element | None) -> _Element | None:
    for _, path in CONTENT_SELECTORS:
        found = [e for e in root.xpath(path) if visible_text(e) or has_image(e)]
        if found:
            return max(found, key=lambda element: len(visible_text(element)))
    if body is None:
        return None
    densest = _densest(body)
    return densest if densest is not None else body

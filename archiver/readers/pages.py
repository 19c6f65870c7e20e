"""Read an article page (HTML): bytes in, one raw ArticleItem out, no I/O."""

from __future__ import annotations

import html
import json
import logging
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints
from lxml import html as lxml_html

from archiver.errors import PageParseError
from archiver.items import ArticleItem
from archiver.media._markup import absolute_http_url
from archiver.readers.feeds.decoding import decode_document

logger = logging.getLogger(__name__)

_Element = Any
"""An lxml element (lxml has no type hints)."""

__all__ = ["CONTENT_SELECTORS", "parse_article_page"]

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

# -- decoding --------------------------------------------------------------------------------

_HEADER_CHARSET = re.compile(r"charset\s*=", re.IGNORECASE)
# The HTML standard's prescan reads a <meta charset> or http-equiv Content-Type in the first
# 1024 bytes; real pages put it later (after long comments or scripts), so look further.
_META_CHARSET = re.compile(
    rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]+)""", re.IGNORECASE
)
_PRESCAN_BYTES = 16 * 1024
_NOT_HTML_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
_LOOKS_LIKE_HTML = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|meta|article|main|div|p|h1|section)[\s/>]",
    re.IGNORECASE,
)


def _decode(body: bytes, content_type: str | None) -> tuple[str, list[str]]:
    """The page as text: ``decode_document`` with the page's ``<meta charset>`` standing in for
    a missing HTTP charset (the byte order mark and the HTTP header still come first)."""
    if not (content_type and _HEADER_CHARSET.search(content_type)):
        meta = _META_CHARSET.search(body, 0, _PRESCAN_BYTES)
        if meta is not None:
            content_type = f"text/html; charset={meta.group(1).decode('ascii')}"
    text, _, errors = decode_document(body, content_type)
    return text, errors


# -- cutting an element's markup out of the source ---------------------------------------------

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


class _HtmlSource:
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


def _serialized_inner(element: _Element) -> str:
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


def _text(element: _Element) -> str:
    """The element's visible text, whitespace collapsed (scripts and styles left out)."""
    return " ".join("".join(_VISIBLE_TEXT(element)).split())


def _has_image(element: _Element) -> bool:
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


def _content_element(root: _Element, body: _Element | None) -> _Element | None:
    for _, path in CONTENT_SELECTORS:
        found = [e for e in root.xpath(path) if _text(e) or _has_image(e)]
        if found:
            return max(found, key=lambda element: len(_text(element)))
    if body is None:
        return None
    densest = _densest(body)
    return densest if densest is not None else body


# -- metadata ----------------------------------------------------------------------------------


class _Meta:
    """The page's ``<meta>`` values by lower-cased ``property``, ``name`` and ``itemprop``."""

    def __init__(self, root: _Element) -> None:
        self.values: dict[str, list[str]] = {}
        for meta in root.iter("meta"):
            content = meta.get("content")
            if content is None or not content.strip():
                continue
            for attribute in ("property", "name", "itemprop"):
                key = (meta.get(attribute) or "").strip().lower()
                if key:
                    self.values.setdefault(key, []).append(content.strip())

    def first(self, *keys: str) -> str | None:
        for key in keys:
            values = self.values.get(key)
            if values:
                return values[0]
        return None

    def all(self, *keys: str) -> list[str]:
        return [value for key in keys for value in self.values.get(key, ())]


_ARTICLE_TYPES = frozenset(
    {
        "blogposting",
        "socialmediaposting",
        "liveblogposting",
        "discussionforumposting",
        "report",
        "posting",
    }
)
_MAX_LD_NODES = 200


def _ld_nodes(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object in a script's value: top-level, in lists and in ``@graph``."""
    if depth > 6:
        return
    if isinstance(value, list):
        for item in value:
            yield from _ld_nodes(item, depth + 1)
    elif isinstance(value, dict):
        yield value
        graph = value.get("@graph")
        if graph is not None:
            yield from _ld_nodes(graph, depth + 1)


def _ld_types(node: dict[str, Any]) -> list[str]:
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return [t.strip().lower() for t in types if isinstance(t, str)]


def _is_article(node: dict[str, Any]) -> bool:
    return any(t.endswith("article") or t in _ARTICLE_TYPES for t in _ld_types(node))


def _json_ld(root: _Element, errors: list[str]) -> dict[str, Any]:
    """The page's JSON-LD article (``Article``, ``NewsArticle``, ``BlogPosting``...), else the
    first object that has a headline or a publication date; empty when there is none."""
    nodes: list[dict[str, Any]] = []
    for script in root.iter("script"):
        kind = (script.get("type") or "").split(";")[0].strip().lower()
        if kind != "application/ld+json":
            continue
        source = (script.text or "").strip()
        if source.startswith("<!--"):
            source = source.removeprefix("<!--").removesuffix("-->").strip()
        if not source:
            continue
        try:
            # strict=False: raw line breaks inside strings are common in hand-written JSON-LD.
            data = json.loads(source, strict=False)
        except (ValueError, RecursionError) as error:
            errors.append(f"unreadable JSON-LD ({str(error)[:120]}); ignored")
            continue
        for node in _ld_nodes(data):
            nodes.append(node)
            if len(nodes) >= _MAX_LD_NODES:
                break
    for node in nodes:
        if _is_article(node):
            return node
    return next((n for n in nodes if "headline" in n or "datePublished" in n), {})


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if _ld_text(v)), None)
    if isinstance(value, dict):
        value = value.get("@value", value.get("name"))
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _ld_list(value: Any, *, split_commas: bool = False) -> list[str]:
    values = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in values:
        text = _ld_text(item)
        if text is None:
            continue
        found.extend(
            part.strip() for part in (text.split(",") if split_commas else [text]) if part.strip()
        )
    return found


def _ld_image(value: Any) -> str | None:
    if isinstance(value, list):
        return next((url for item in value if (url := _ld_image(item))), None)
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value.strip() and value.strip() not in seen:
            seen.append(value.strip())
    return seen


def _itemprop(root: _Element, name: str) -> str | None:
    """A microdata value: ``content``, else ``datetime``, else the element's text."""
    for element in root.xpath(
        "//*[contains(concat(' ', normalize-space(@itemprop), ' '), $token)]",
        token=f" {name} ",
    ):
        value = element.get("content") or element.get("datetime") or _text(element)
        if value and value.strip():
            return value.strip()
    return None


def _is_url(value: str) -> bool:
    return bool(re.match(r"(?i)https?://", value))


_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
)
_PUBLISHED_META_LATE = (
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "date",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")


def _page_title(root: _Element, meta: _Meta, ld: dict[str, Any]) -> str | None:
    title = meta.first("og:title") or _ld_text(ld.get("headline"))
    if title:
        return title
    element = root.find(".//title")
    if element is not None and (text := " ".join((element.text or "").split())):
        return text
    meta_title = meta.first("twitter:title")
    if meta_title:
        return meta_title
    heading = root.find(".//h1")
    return (_text(heading) or None) if heading is not None else None


def _authors(root: _Element, meta: _Meta, ld: dict[str, Any]) -> list[str]:
    """Authors from the first place that names any: ``<meta name=author>``,
    ``article:author`` (names, not profile URLs), JSON-LD, microdata, ``rel=author`` links."""
    candidates: list[Iterable[str | None]] = [
        meta.all("author"),
        (v for v in meta.all("article:author") if not _is_url(v)),
        _ld_list(ld.get("author")),
        [_itemprop(root, "author")],
        (
            _text(link)
            for link in root.xpath("//a[@rel] | //link[@rel]")
            if "author" in (link.get("rel") or "").lower().split()
        ),
    ]
    for group in candidates:
        found = _unique(group)
        if found:
            return found
    return []


def _language(root: _Element, meta: _Meta, ld: dict[str, Any]) -> str | None:
    for value in (
        root.get("lang"),
        root.get("xml:lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
    ):
        if value and value.strip():
            return value.strip()  # type: ignore[no-any-return]
    for element in root.iter("meta"):
        if (element.get("http-equiv") or "").strip().lower() == "content-language":
            value = (element.get("content") or "").split(",")[0].strip()
            if value:
                return value
    locale = meta.first("og:locale")
    if locale:
        return locale.replace("_", "-")
    return _ld_text(ld.get("inLanguage"))


def _first_time(element: _Element | None) -> str | None:
    if element is None:
        return None
    for time in element.iter("time"):
        value = (time.get("datetime") or "").strip()
        if value:
            return value
    return None


# -- the entry point ---------------------------------------------------------------------------


FEED_LINK_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)
"""Media types of the ``<link rel="alternate">`` a page announces its feed with."""


def announced_feeds(body: bytes, url: str) -> list[str]:
    """The feed URLs an HTML page names with ``<link rel="alternate">``, absolute, in
    order, no repeats (what a crawl follows, and what ``sources add`` offers instead)."""
    try:
        document = lxml_html.fromstring(body)
    except (ValueError, TypeError, etree.ParserError):
        return []
    found = []
    for link in document.iterfind(".//link[@href]"):
        rel = (link.get("rel") or "").lower().split()
        media_type = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and media_type in FEED_LINK_TYPES:
            found.append(urljoin(url, link.get("href") or ""))
    return list(dict.fromkeys(found))


def parse_article_page(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> ArticleItem:
    """Read an HTML article page into one raw ArticleItem (``source_kind="page"``).

    ``url`` is where the page was fetched (after redirects): the item's ``url`` and
    ``source_url`` and, unless ``<base href>`` says otherwise, its ``base_url``. The body is
    decoded like a feed (byte order mark, HTTP charset, then ``<meta charset>``). Metadata
    comes from Open Graph, ``article:*`` and other ``<meta>`` tags, JSON-LD, microdata,
    ``<time datetime>``, ``<html lang>`` and ``<link rel=canonical>``; the content is the
    inner markup of the body element (``CONTENT_SELECTORS``, else the densest element), cut
    out of the decoded text exactly as written. ``PageParseError`` is raised when the
    document is not HTML or holds neither a title nor any text, and it is the only exception
    this function raises.
    """
    try:
        return _parse_page(bytes(body), url or "", content_type, fetched_at)
    except PageParseError:
        raise
    except Exception as error:  # the contract: any input, no exception but PageParseError
        logger.warning("unexpected failure reading page %s", url, exc_info=True)
        raise PageParseError(f"could not read page {url}: {error!r}") from error


def _parse_page(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> ArticleItem:
    if not body.strip():
        raise PageParseError("not a page: the document is empty")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type.startswith(_NOT_HTML_TYPES):
        raise PageParseError(f"not a page: the document is {media_type}")
    text, errors = _decode(body, content_type)
    if not _LOOKS_LIKE_HTML.search(text, 0, 1 << 20):
        raise PageParseError("not a page: no HTML markup")
    # lxml reads bytes; NUL would end its reading early, so the parser gets a stand-in.
    parseable = text.replace("\x00", "\ufffd").encode("utf-8", "replace")
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=False, remove_pis=True)
    try:
        root = lxml_html.document_fromstring(parseable, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as error:
        raise PageParseError(f"not a page: {error}") from error
    if root is None or not isinstance(root.tag, str):
        raise PageParseError("not a page: nothing could be read")

    base_url = url
    base = root.find(".//base[@href]")
    if base is not None and base.get("href", "").strip():
        # An http(s) base only (a file: one only for a page read from disk): a page of the
        # web never makes its links local files.
        base_url = absolute_http_url(base.get("href"), url) or url

    meta = _Meta(root)
    ld = _json_ld(root, errors)
    body_element = root.find("body")
    content_element = _content_element(root, body_element)
    content_html: str | None = None
    if content_element is not None:
        content_html = _HtmlSource(text).inner(root, content_element)
        if content_html is None:
            content_html = _serialized_inner(content_element)
            errors.append("the content could not be cut out of the page exactly; serialized")
    title = _page_title(root, meta, ld)
    if not title and not (content_element is not None and _text(content_element)):
        raise PageParseError("not an article page: no title and no text")

    canonical: str | None = None
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = urljoin(base_url, link.get("href").strip())
            break

    published = (
        meta.first(*_PUBLISHED_META)
        or _itemprop(root, "datePublished")
        or _ld_text(ld.get("datePublished"))
        or meta.first(*_PUBLISHED_META_LATE)
        or _first_time(content_element)
        or _first_time(root)
    )
    updated = (
        meta.first(*_MODIFIED_META)
        or _itemprop(root, "dateModified")
        or _ld_text(ld.get("dateModified"))
    )
    og_image = (
        meta.first("og:image:secure_url", "og:image", "og:image:url")
        or _ld_image(ld.get("image"))
        or meta.first("twitter:image", "twitter:image:src")
    )
    description = meta.first("og:description", "description", "twitter:description")
    description = description or _ld_text(ld.get("description"))
    categories = _unique(
        [
            *meta.all("article:section"),
            *meta.all("article:tag"),
            *_ld_list(ld.get("articleSection")),
            *_ld_list(ld.get("keywords"), split_commas=True),
        ]
    )
    site_name = meta.first("og:site_name", "application-name") or _ld_text(ld.get("publisher"))
    return ArticleItem(
        url=url,
        source_url=url,
        source_kind="page",
        fetched_at=fetched_at,
        base_url=base_url,
        canonical_url=canonical,
        title_raw=title,
        authors_raw=_authors(root, meta, ld),
        published_raw=published,
        updated_raw=updated,
        # A description is text: escaped, it reads as the markup summary_html is.
        summary_html=html.escape(description, quote=False) if description else None,
        content_html=content_html,
        categories_raw=categories,
        language_raw=_language(root, meta, ld),
        og_image=urljoin(base_url, og_image) if og_image else None,
        feed_title=site_name,
        parse_errors=errors,
    )

"""What an HTML page declares of itself: Open Graph, ``<meta>``, JSON-LD, microdata, ``<time>``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from archiver.normalize.dates import parse_date
from archiver.readers.pages.body import visible_text

_Element = Any
"""An lxml element (lxml has no type hints)."""


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
        value = element.get("content") or element.get("datetime") or visible_text(element)
        if value and value.strip():
            return value.strip()
    return None


def _is_url(value: str) -> bool:
    return bool(re.match(r"(?i)https?://", value))


_PUBLISHED_OG = ("article:published_time", "og:article:published_time", "og:published_time")
_PUBLISHED_META = ("datepublished",)
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
_MODIFIED_OG = ("article:modified_time", "og:updated_time")
_MODIFIED_META = ("datemodified", "dcterms.modified")

Declared = tuple[str, str]
"""A value the page declares, and where: ``page:json-ld``, ``page:og`` (Open Graph and its
``article:*``), ``page:meta`` (other ``<meta>``), ``page:microdata`` or ``page:html``
(``<title>``, ``<h1>``, ``<time>``, ``lang``, ``rel=author``)."""


def first_declared(
    *candidates: tuple[str, str | None], readable: Callable[[str], bool] | None = None
) -> Declared | None:
    """The first candidate ``(origin, value)`` that has a value (that *readable* accepts)."""
    return next(
        (
            (origin, value)
            for origin, value in candidates
            if value and (readable is None or readable(value))
        ),
        None,
    )


def _is_date(value: str) -> bool:
    """Whether a declared date can be read: one that cannot gives way to the next place."""
    return parse_date(value).value is not None


@dataclass
class DeclaredMetadata:
    """What a page says of itself, each value with where it said it."""

    title: Declared | None = None
    authors: tuple[str, list[str]] | None = None
    published: Declared | None = None
    """From JSON-LD, ``article:published_time``, microdata or another meta tag."""
    time_element: Declared | None = None
    """The first ``<time datetime>`` of the content, else of the page: the weakest sign of a
    date, which the extractor's (htmldate's) reading of the page goes before."""
    updated: Declared | None = None
    image: Declared | None = None
    description: Declared | None = None
    categories: list[str] = field(default_factory=list)
    language: Declared | None = None
    site_name: Declared | None = None
    canonical_url: str | None = None


def read_declared(
    root: _Element, base_url: str, content: _Element | None, errors: list[str]
) -> DeclaredMetadata:
    """The page's own metadata from Open Graph and ``article:*``, other ``<meta>`` tags,
    JSON-LD, microdata, ``<time datetime>``, ``<html lang>`` and ``<link rel=canonical>``.

    A publication date is taken from JSON-LD first, then ``article:published_time``, then
    microdata, then the other meta tags (a value that cannot be read as a date gives way to
    the next); the first ``<time>`` of the content (*content*), else of the page, is kept
    apart. Problems (unreadable JSON-LD) are added to *errors*."""
    meta = _Meta(root)
    ld = _json_ld(root, errors)
    canonical: str | None = None
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = urljoin(base_url, link.get("href").strip())
            break
    image = first_declared(
        ("page:og", meta.first("og:image:secure_url", "og:image", "og:image:url")),
        ("page:json-ld", _ld_image(ld.get("image"))),
        ("page:meta", meta.first("twitter:image", "twitter:image:src")),
    )
    return DeclaredMetadata(
        title=_page_title(root, meta, ld),
        authors=_authors(root, meta, ld),
        published=first_declared(
            ("page:json-ld", _ld_text(ld.get("datePublished"))),
            ("page:og", meta.first(*_PUBLISHED_OG)),
            ("page:meta", meta.first(*_PUBLISHED_META)),
            ("page:microdata", _itemprop(root, "datePublished")),
            ("page:meta", meta.first(*_PUBLISHED_META_LATE)),
            readable=_is_date,
        ),
        time_element=first_declared(
            ("page:html", _first_time(content)), ("page:html", _first_time(root)), readable=_is_date
        ),
        updated=first_declared(
            ("page:json-ld", _ld_text(ld.get("dateModified"))),
            ("page:og", meta.first(*_MODIFIED_OG)),
            ("page:meta", meta.first(*_MODIFIED_META)),
            ("page:microdata", _itemprop(root, "dateModified")),
            readable=_is_date,
        ),
        image=(image[0], urljoin(base_url, image[1])) if image else None,
        description=first_declared(
            ("page:og", meta.first("og:description")),
            ("page:meta", meta.first("description", "twitter:description")),
            ("page:json-ld", _ld_text(ld.get("description"))),
        ),
        categories=_unique(
            [
                *meta.all("article:section"),
                *meta.all("article:tag"),
                *_ld_list(ld.get("articleSection")),
                *_ld_list(ld.get("keywords"), split_commas=True),
            ]
        ),
        language=_language(root, meta, ld),
        site_name=first_declared(
            ("page:og", meta.first("og:site_name")),
            ("page:meta", meta.first("application-name")),
            ("page:json-ld", _ld_text(ld.get("publisher"))),
        ),
        canonical_url=canonical,
    )


def _page_title(root: _Element, meta: _Meta, ld: dict[str, Any]) -> Declared | None:
    heading = root.find(".//h1")
    title = root.find(".//title")
    return first_declared(
        ("page:og", meta.first("og:title")),
        ("page:json-ld", _ld_text(ld.get("headline"))),
        ("page:html", " ".join((title.text or "").split()) if title is not None else None),
        ("page:meta", meta.first("twitter:title")),
        ("page:html", (visible_text(heading) or None) if heading is not None else None),
    )


def _authors(root: _Element, meta: _Meta, ld: dict[str, Any]) -> tuple[str, list[str]] | None:
    """Authors from the first place that names any: ``<meta name=author>``,
    ``article:author`` (names, not profile URLs), JSON-LD, microdata, ``rel=author`` links."""
    candidates: list[tuple[str, Iterable[str | None]]] = [
        ("page:meta", meta.all("author")),
        ("page:og", (v for v in meta.all("article:author") if not _is_url(v))),
        ("page:json-ld", _ld_list(ld.get("author"))),
        ("page:microdata", [_itemprop(root, "author")]),
        (
            "page:html",
            (
                visible_text(link)
                for link in root.xpath("//a[@rel] | //link[@rel]")
                if "author" in (link.get("rel") or "").lower().split()
            ),
        ),
    ]
    for origin, group in candidates:
        found = _unique(group)
        if found:
            return origin, found
    return None


def _language(root: _Element, meta: _Meta, ld: dict[str, Any]) -> Declared | None:
    for value in (
        root.get("lang"),
        root.get("xml:lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
    ):
        if value and value.strip():
            return "page:html", value.strip()
    for element in root.iter("meta"):
        if (element.get("http-equiv") or "").strip().lower() == "content-language":
            value = (element.get("content") or "").split(",")[0].strip()
            if value:
                return "page:meta", value
    locale = meta.first("og:locale")
    if locale:
        return "page:og", locale.replace("_", "-")
    return first_declared(("page:json-ld", _ld_text(ld.get("inLanguage"))))


def _first_time(element: _Element | None) -> str | None:
    if element is None:
        return None
    for time in element.iter("time"):
        value = (time.get("datetime") or "").strip()
        if value:
            return value
    return None

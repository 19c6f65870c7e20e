"""Read an article page (HTML): bytes in, one raw ArticleItem out, no I/O."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints
from lxml import html as lxml_html

from archiver.errors import PageParseError
from archiver.items import ArticleItem
from archiver.media._markup import absolute_http_url
from archiver.readers.pages.body import (
    CONTENT_SELECTORS,
    HtmlSource,
    content_element,
    serialized_inner,
    visible_text,
)
from archiver.readers.pages.declared import DeclaredMetadata, read_declared
from archiver.readers.pages.decoding import LOOKS_LIKE_HTML, NOT_HTML_TYPES, decode_page

logger = logging.getLogger(__name__)

__all__ = [
    "CONTENT_SELECTORS",
    "PageReading",
    "announced_feeds",
    "decode_page",
    "parse_article_page",
    "read_article_page",
]


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


@dataclass
class PageReading:
    """An article page read: the raw item, what the page declared, and its parsed tree."""

    item: ArticleItem
    declared: DeclaredMetadata
    root: Any
    """The page as an lxml HTML tree, for an extractor to read further."""
    body: Any
    """The element the body was looked for in (the item's content is its inner markup)."""
    text: str = ""
    """The decoded page, which the body is cut out of."""

    def cut_body(self) -> None:
        """Set the item's content to the body element's markup as written (serialized,
        and said so, where the parser had to repair it)."""
        if self.body is None:
            return
        content = HtmlSource(self.text).inner(self.root, self.body)
        if content is None:
            content = serialized_inner(self.body)
            self.item.parse_errors.append(
                "the content could not be cut out of the page exactly; serialized"
            )
        self.item.content_html = content
        self.item.content_source = "page:body"


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
    comes from what the page declares (``read_declared``), each raw field's origin in
    ``item.provenance``; the content is the inner markup of the body element
    (``CONTENT_SELECTORS``, else the densest element), cut out of the decoded text exactly as
    written. ``PageParseError`` is raised when the document is not HTML or holds neither a
    title nor any text, and it is the only exception this function raises.
    """
    reading = read_article_page(body, url, content_type=content_type, fetched_at=fetched_at)
    reading.cut_body()
    return reading.item


def read_article_page(
    body: bytes,
    url: str,
    *,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> PageReading:
    """:func:`parse_article_page`, with the parsed tree and the declared metadata beside the
    item (what an extractor reads next), and the body not cut out yet
    (:meth:`PageReading.cut_body` does, for an extractor that found nothing). Same contract."""
    try:
        return _read_page(bytes(body), url or "", content_type, fetched_at)
    except PageParseError:
        raise
    except Exception as error:  # the contract: any input, no exception but PageParseError
        logger.warning("unexpected failure reading page %s", url, exc_info=True)
        raise PageParseError(f"could not read page {url}: {error!r}") from error


def _read_page(
    body: bytes, url: str, content_type: str | None, fetched_at: datetime | None
) -> PageReading:
    if not body.strip():
        raise PageParseError("not a page: the document is empty")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type.startswith(NOT_HTML_TYPES):
        raise PageParseError(f"not a page: the document is {media_type}")
    text, errors = decode_page(body, content_type)
    if not LOOKS_LIKE_HTML.search(text, 0, 1 << 20):
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

    body_element = content_element(root, root.find("body"))
    declared = read_declared(root, base_url, body_element, errors)
    title = declared.title[1] if declared.title else None
    if not title and not (body_element is not None and visible_text(body_element)):
        raise PageParseError("not an article page: no title and no text")
    description = declared.description[1] if declared.description else None
    published = declared.published or declared.time_element
    item = ArticleItem(
        url=url,
        source_url=url,
        source_kind="page",
        fetched_at=fetched_at,
        base_url=base_url,
        canonical_url=declared.canonical_url,
        title_raw=title,
        authors_raw=declared.authors[1] if declared.authors else [],
        published_raw=published[1] if published else None,
        updated_raw=declared.updated[1] if declared.updated else None,
        # A description is text: escaped, it reads as the markup summary_html is.
        summary_html=html.escape(description, quote=False) if description else None,
        categories_raw=declared.categories,
        language_raw=declared.language[1] if declared.language else None,
        og_image=declared.image[1] if declared.image else None,
        feed_title=declared.site_name[1] if declared.site_name else None,
        parse_errors=errors,
        provenance={
            name: value[0]
            for name, value in (
                ("title", declared.title),
                ("authors", declared.authors),
                ("published", published),
                ("updated", declared.updated),
                ("headimg", declared.image),
                ("summary", declared.description),
                ("language", declared.language),
            )
            if value is not None
        },
    )
    return PageReading(item, declared, root, body_element, text)

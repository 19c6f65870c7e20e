"""Read sitemaps (sitemaps.org urlset and index, Google News, gzip, robots.txt): no I/O."""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from archiver.errors import FeedParseError
from archiver.normalize.dates import parse_date

logger = logging.getLogger(__name__)

__all__ = [
    "ParsedSitemap",
    "SitemapEntry",
    "merged",
    "newest_first",
    "newest_first_key",
    "parse_robots",
    "parse_sitemap",
    "read_sitemap",
    "sniff_sitemap",
    "unzip_sitemap",
]

SITEMAP_KINDS = ("urlset", "sitemapindex")
"""Root elements of a sitemaps.org document: a list of pages, or a list of sitemaps."""

_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_IMAGE = "http://www.google.com/schemas/sitemap-image/1.1"
_FIRST_ELEMENT = re.compile(
    r"(?:\s+|<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>]*>)*+<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)",
    re.DOTALL,
)
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class SitemapEntry:
    """One ``<url>`` of a urlset, or one ``<sitemap>`` of an index (or robots.txt line)."""

    url: str
    """``<loc>``, absolute (resolved against the sitemap's URL)."""
    lastmod_raw: str | None = None
    """``<lastmod>`` as written (W3C Datetime)."""
    lastmod: datetime | None = None
    """``<lastmod>`` in UTC, or None when absent or unreadable."""
    news_title: str | None = None
    """Google News ``news:title``."""
    news_published_raw: str | None = None
    """Google News ``news:publication_date`` as written."""
    news_published: datetime | None = None
    """``news:publication_date`` in UTC."""
    news_keywords: list[str] = field(default_factory=list)
    """Google News ``news:keywords``, split at commas."""
    images: list[str] = field(default_factory=list)
    """``image:image/image:loc`` URLs, absolute."""

    @property
    def date(self) -> datetime | None:
        """When the page last changed, as far as the sitemap says: ``lastmod``, else the
        news publication date."""
        return self.lastmod or self.news_published


@dataclass
class ParsedSitemap:
    """One sitemap document as read."""

    kind: str
    """``urlset`` (pages), ``sitemapindex`` (sitemaps) or ``robots`` (a robots.txt naming
    sitemaps)."""
    entries: list[SitemapEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Problems met while reading (recorded, never raised)."""


def unzip_sitemap(body: bytes, *, max_size: int = 0) -> bytes:
    """The body, gunzipped when it is gzip data (``sitemap.xml.gz`` served without
    ``Content-Encoding``); ``max_size`` bytes at most (0: no limit). ``FeedParseError`` when
    it is gzip and cannot be read or is larger."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    try:
        return gunzip(body, max_size=max_size)
    except (OSError, EOFError, zlib.error, ValueError) as error:
        # ValueError: Scrapy's "larger than max_size" (its class is private) and bad headers
        raise FeedParseError(f"not a sitemap: unreadable gzip data ({error})") from error


def sniff_sitemap(body: bytes) -> str | None:
    """``urlset`` or ``sitemapindex`` when the document's root element is one, else None.

    Cheap: reads the first 64 KiB of an already unzipped body, parses nothing."""
    head = bytes(body[:65536])
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore")
    else:
        text = head.decode("utf-8", "ignore").lstrip("\ufeff")
    match = _FIRST_ELEMENT.match(text)
    if match is None:
        return None
    name = match.group(1)
    return name if name in SITEMAP_KINDS else None


class _Sitemap(Sitemap):
    """Scrapy's sitemap reader, also keeping the Google News and image extensions.

    Scrapy reads each ``<url>`` child's own text only, so ``news:news`` and ``image:image``
    (which hold elements) come out empty; this reads them before Scrapy clears the element.
    It overrides Scrapy's private ``_process_sitemap_element``: re-check it when upgrading
    Scrapy (tests/test_sitemaps.py fails if the news dates go missing).
    """

    __slots__ = ()

    def _process_sitemap_element(self, elem: Any) -> dict[str, Any] | None:
        extensions = _extensions(elem)
        entry = super()._process_sitemap_element(elem)
        if entry is not None:
            entry.update(extensions)
        return entry


def _extensions(element: Any) -> dict[str, Any]:
    """``news:*`` and ``image:loc`` values of one ``<url>`` element."""
    found: dict[str, Any] = {}
    images: list[str] = []
    for child in element.iter():
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith("{"):
            continue
        namespace, _, local = tag[1:].partition("}")
        text = (child.text or "").strip()
        if not text:
            continue
        if namespace == _NEWS and local in ("title", "publication_date", "keywords"):
            found.setdefault(f"news:{local}", text)
        elif namespace == _IMAGE and local == "loc":
            images.append(text)
    if images:
        found["image:loc"] = images
    return found


def _date(raw: str | None) -> datetime | None:
    return parse_date(raw).value if raw else None


def _entry(values: dict[str, Any], base: str) -> SitemapEntry | None:
    loc = (values.get("loc") or "").strip()
    if not loc:
        return None
    url = urljoin(base, loc)
    if urlsplit(url).scheme.lower() not in ("http", "https", "file"):
        return None
    lastmod = (values.get("lastmod") or "").strip() or None
    published = values.get("news:publication_date")
    keywords = values.get("news:keywords") or ""
    return SitemapEntry(
        url=url,
        lastmod_raw=lastmod,
        lastmod=_date(lastmod),
        news_title=values.get("news:title"),
        news_published_raw=published,
        news_published=_date(published),
        news_keywords=[k.strip() for k in keywords.split(",") if k.strip()],
        images=[urljoin(base, u) for u in values.get("image:loc", ())],
    )


def parse_sitemap(body: bytes, url: str, *, max_size: int = 0) -> ParsedSitemap:
    """Read a sitemap (``urlset``, ``sitemapindex``, gzip or not) into its entries.

    ``url`` is where it was fetched: relative ``<loc>`` values resolve against it. Entries
    keep document order; locs that are not http(s) or file URLs are left out. A document
    that is not well-formed gives the entries read before the damage, the problem listed in
    ``errors``. ``FeedParseError`` is raised when the document is not a sitemap at all, and
    it is the only exception this function raises.
    """
    try:
        return _parse_sitemap(bytes(body), url or "", max_size)
    except FeedParseError:
        raise
    except Exception as error:  # the contract: any input, no exception but FeedParseError
        logger.warning("unexpected failure reading sitemap %s", url, exc_info=True)
        raise FeedParseError(f"could not read sitemap {url}: {error!r}") from error


def _parse_sitemap(body: bytes, url: str, max_size: int) -> ParsedSitemap:
    body = unzip_sitemap(body, max_size=max_size)
    kind = sniff_sitemap(body)
    if kind is None:
        raise FeedParseError("not a sitemap: the root element is not urlset or sitemapindex")
    parsed = ParsedSitemap(kind=kind)
    try:
        reader = _Sitemap(body)
    except Exception as error:  # lxml's verdict on a document it cannot start reading
        raise FeedParseError(f"not a sitemap: {error}") from error
    if reader.type != kind:
        raise FeedParseError(f"not a sitemap: the root element is <{reader.type}>")
    iterator: Iterator[dict[str, Any]] = iter(reader)
    while True:
        try:
            values = next(iterator)
        except StopIteration:
            break
        except Exception as error:  # lxml gave up part-way; what was read stands
            parsed.errors.append(f"not well-formed: {str(error)[:200]}")
            break
        entry = _entry(values, url)
        if entry is not None:
            parsed.entries.append(entry)
    return parsed


def parse_robots(body: bytes, url: str) -> ParsedSitemap:
    """The sitemaps a robots.txt names (``Sitemap:`` lines), as an index would list them."""
    entries = [SitemapEntry(url=u) for u in sitemap_urls_from_robots(bytes(body), base_url=url)]
    return ParsedSitemap(kind="robots", entries=[e for e in entries if e.url.strip()])


def newest_first_key(entry: SitemapEntry) -> tuple[int, float]:
    """Sort key: dated entries newest first, then undated ones (``sorted`` keeps their
    order)."""
    date = entry.date
    return (0, -date.timestamp()) if date is not None else (1, 0.0)


def newest_first(entries: Iterable[SitemapEntry]) -> list[SitemapEntry]:
    """Entries by :attr:`SitemapEntry.date`, newest first; undated ones after, in order."""
    return sorted(entries, key=newest_first_key)


def merged(known: SitemapEntry, other: SitemapEntry) -> SitemapEntry:
    """One page listed twice (a urlset and a news sitemap): the newest date, every detail."""
    newest = known if (other.date is None or (known.date and known.date >= other.date)) else other
    oldest = other if newest is known else known
    return SitemapEntry(
        url=newest.url,
        lastmod_raw=newest.lastmod_raw or oldest.lastmod_raw,
        lastmod=newest.lastmod or oldest.lastmod,
        news_title=newest.news_title or oldest.news_title,
        news_published_raw=newest.news_published_raw or oldest.news_published_raw,
        news_published=newest.news_published or oldest.news_published,
        news_keywords=newest.news_keywords or oldest.news_keywords,
        images=newest.images or oldest.images,
    )


def read_sitemap(
    body: bytes, url: str, *, max_size: int = 0, robots: bool = False
) -> ParsedSitemap | None:
    """*body* as a sitemap (gzip or not) or, with *robots*, as a ``robots.txt`` naming
    sitemaps; None when it is neither. ``FeedParseError`` for gzip data that cannot be
    read, or a sitemap that cannot. Blocking (it may unzip megabytes): call it in a thread."""
    body = unzip_sitemap(body, max_size=max_size)
    if sniff_sitemap(body) is not None:
        return parse_sitemap(body, url)
    if robots:
        listed = parse_robots(body, url)
        return listed if listed.entries else None
    return None

"""What the mock site serves: every path, its one-line description and its handler.

The route table is the index: ``/`` and ``/__index__.json`` are rendered from it, so nothing
is served that is not listed. The HTTP mechanics (validators, 304s, streaming, the request
log) live in :mod:`tests.mocksite.server`.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.mocksite import bigsite, copies, edges, feeds, whole
from tests.mocksite.corpus import ARTICLES, ARTICLES_BY_SLUG, Article, article_page
from tests.mocksite.images import (
    bomb_png,
    generated_image,
    huge_png_length,
    huge_png_stream,
    static_images,
)
from tests.mocksite.writers import rss2

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"

SITE_LAST_MODIFIED = datetime(2021, 5, 11, 12, 0, 0, tzinfo=UTC)
"""``Last-Modified`` of everything that does not change (an instant in the past, fixed)."""
IMAGES_LAST_MODIFIED = datetime(2021, 4, 1, 0, 0, 0, tzinfo=UTC)
CONTROL_PREFIX = "/__"
"""Paths under this prefix control the site; they are not written to the request log."""


@dataclass
class SiteOptions:
    """The options of ``python -m tests.mocksite`` that change what is served."""

    big_feeds: int = bigsite.BIG_FEEDS
    big_per_feed: int = bigsite.BIG_PER_FEED


class SiteState:
    """What changes while the site runs: the request log, the changing feed's version and
    per-path hit counters. One lock guards it all; the server is threaded."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.changing_version = 1
        self.hits: Counter[str] = Counter()

    def reset(self) -> None:
        with self.lock:
            self.log.clear()
            self.changing_version = 1
            self.hits.clear()

    def count_hit(self, path: str) -> int:
        """Count one request to ``path``; returns how many there have been, this one included."""
        with self.lock:
            self.hits[path] += 1
            return self.hits[path]


@dataclass
class Request:
    method: str
    path: str
    """The path, without the query string."""
    query: dict[str, str]
    headers: Message
    """Case-insensitive: ``headers.get("if-none-match")``."""
    site: Site
    params: tuple[str, ...] = ()
    """The groups of a pattern route's match."""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterable[bytes] | None = None
    """A body produced while sending (huge, trickled); ``body`` is ignored then."""
    length: int | None = None
    """``Content-Length`` of a stream; None sends it with chunked transfer coding."""
    truncate_to: int | None = None
    """Announce ``len(body)`` but send only this many bytes, then drop the connection."""
    etag: str | None = None
    """An explicit ETag; by default a strong one is computed from ``body``."""
    send_etag: bool = True
    last_modified: datetime | None = None


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    path: str
    """The path, or for a pattern route a readable form such as ``/images/gen/{n}.png``."""
    group: str
    description: str
    handler: Handler
    status: int = 200
    """What a plain GET (no conditional headers, no Referer) answers."""
    content_type: str | None = None
    method: str = "GET"
    default_delay: float = 0.0
    """Seconds to wait before answering when the query has no ``delay``."""
    handles_delay: bool = False
    """The handler reads ``?delay=`` itself (the trickle) instead of the server waiting first."""
    pattern: re.Pattern[str] | None = None
    example: str | None = None
    """For a pattern route, one concrete path."""

    def index_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "group": self.group,
            "description": self.description,
            "status": self.status,
            "content_type": self.content_type,
        }
        if self.example:
            entry["example"] = self.example
        return entry


def _page(title: str, body: str, *, head: str = "") -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>\n{head}</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def _constant(data: bytes, base: str) -> bytes:
    return data


def _article_page(article: Article, base: str) -> bytes:
    return article_page(article, base).encode()


def _big_feed(index: int, per_feed: int, base: str) -> bytes:
    return bigsite.big_feed(index, base=base, per_feed=per_feed)[1]


def _big_summary_feed(index: int, per_feed: int, base: str) -> bytes:
    return bigsite.big_summary_feed(index, base=base, per_feed=per_feed)


class Site:
    """The route table for one base URL and set of options."""

    def __init__(self, base: str, options: SiteOptions | None = None) -> None:
        self.base = base
        self.options = options or SiteOptions()
        self.state = SiteState()
        self.routes: dict[tuple[str, str], Route] = {}
        self.patterns: list[Route] = []
        self._add_site_routes()
        self._add_feed_routes()
        self._add_fidelity_routes()
        self._add_broken_routes()
        self._add_cache_routes()
        self._add_image_routes()
        self._add_page_routes()
        self._add_whole_routes()
        self._add_copies_routes()
        self._add_big_routes()
        self._add_edge_routes()
        self._add_control_routes()

    # -- table plumbing ---------------------------------------------------------------------

    def add(self, route: Route) -> None:
        if route.pattern is not None:
            self.patterns.append(route)
        else:
            self.routes[(route.method, route.path)] = route

    def add_static(
        self,
        path: str,
        group: str,
        description: str,
        content_type: str,
        make: Callable[[str], bytes],
        *,
        last_modified: datetime | None = SITE_LAST_MODIFIED,
        headers: Iterable[tuple[str, str]] = (),
        status: int = 200,
    ) -> None:
        """A fixed body, made once on first use."""
        body = functools.cache(lambda: make(self.base))
        extra = list(headers)

        def handler(request: Request) -> Response:
            return Response(status, body(), content_type, list(extra), last_modified=last_modified)

        self.add(Route(path, group, description, handler, status, content_type))

    def resolve(self, method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
        """The route for a request, with its pattern's groups; HEAD is served as GET."""
        lookup = "GET" if method == "HEAD" else method
        route = self.routes.get((lookup, path))
        if route is not None:
            return route, ()
        for route in self.patterns:
            assert route.pattern is not None
            match = route.pattern.fullmatch(path)
            if match and route.method == lookup:
                return route, match.groups()
        return None

    def allows(self, path: str) -> list[str]:
        """Methods served at ``path`` (for a 405's ``Allow``)."""
        return sorted(method for method, known in self.routes if known == path)

    def index(self) -> list[dict[str, Any]]:
        return [route.index_entry() for route in [*self.routes.values(), *self.patterns]]

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    # -- the site itself ---------------------------------------------------------------------

    def _add_site_routes(self) -> None:
        self.add(
            Route(
                "/",
                "site",
                "This index, as HTML, with feed autodiscovery links.",
                self._home,
                200,
                HTML,
            )
        )
        self.add(
            Route(
                "/__index__.json",
                "site",
                "This index as JSON: method, path, group, description, status, content_type.",
                lambda request: Response(
                    body=feeds.json_bytes(self.index()), content_type=JSON, send_etag=False
                ),
                200,
                JSON,
            )
        )
        self.add_static(
            "/robots.txt",
            "site",
            "Allows everything; names /sitemap.xml.",
            TEXT,
            lambda base: f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode(),
        )
        self.add_static(
            "/feeds.opml",
            "site",
            "OPML 2.0 listing every feed of the 'feeds' group (for `sources import`).",
            "text/x-opml; charset=utf-8",
            lambda base: feeds.opml(
                "Mock Site feeds",
                [
                    (path, f"{base}{path}", "feeds")
                    for (_, path), route in self.routes.items()
                    if route.group == "feeds"
                ],
            ),
        )

    def _home(self, request: Request) -> Response:
        rows = []
        for entry in self.index():
            href = escape(entry.get("example", entry["path"]))
            rows.append(
                f"<tr><td>{escape(entry['method'])}</td>"
                f'<td><a href="{href}">{escape(entry["path"])}</a></td>'
                f"<td>{entry['status']}</td><td>{escape(entry['description'])}</td></tr>"
            )
        head = (
            '<link rel="alternate" type="application/rss+xml" title="RSS" '
            f'href="{self.base}/feeds/rss2.xml">\n'
            '<link rel="alternate" type="application/atom+xml" title="Atom" '
            f'href="{self.base}/feeds/atom10.xml">\n'
            '<link rel="alternate" type="application/feed+json" title="JSON Feed" '
            f'href="{self.base}/feeds/jsonfeed11.json">\n'
        )
        body = (
            "<h1>Mock Site 模拟站点</h1>\n<p>Everything this site serves (JSON at "
            "/__index__.json).</p>\n"
            "<table>\n<tr><th>method</th><th>path</th><th>status</th><th>what</th></tr>\n"
            + "\n".join(rows)
            + "\n</table>"
        )
        return Response(
            body=_page("Mock Site", body, head=head), content_type=HTML, send_etag=False
        )

    # -- feeds --------------------------------------------------------------------------------

    def _add_feed_routes(self) -> None:
        add = self.add_static
        add(
            "/feeds/rss2.xml",
            "feeds",
            "RSS 2.0: content:encoded (CDATA) + description; GMT, +0800, CST, 'Invalid Date' and "
            "naive dates; enclosures, media:content/thumbnail; ttl 60.",
            RSS,
            feeds.rss2_feed,
        )
        add(
            "/feeds/rss1.rdf",
            "feeds",
            "RSS 1.0 (RDF): dc:date ISO 8601 with offsets and a date-only one, dc:subject, "
            "content:encoded.",
            RDF,
            feeds.rss1_feed,
        )
        add(
            "/feeds/rss091.xml",
            "feeds",
            "RSS 0.91: title, link and escaped HTML description only; no guids, no item dates.",
            "text/xml; charset=utf-8",
            feeds.rss091_feed,
        )
        add(
            "/feeds/rss092.xml",
            "feeds",
            "RSS 0.92: escaped HTML description, category, enclosure, source; no guids.",
            RSS,
            feeds.rss092_feed,
        )
        add(
            "/feeds/atom10.xml",
            "feeds",
            "Atom 1.0: type=html (escaped) and type=xhtml content, published/updated with "
            "offsets (one with +0800, one with fractional seconds, one with no published), "
            "enclosure, media:thumbnail.",
            ATOM,
            feeds.atom10_feed,
        )
        add(
            "/feeds/atom03.xml",
            "feeds",
            "Atom 0.3: issued/modified, content mode=escaped and mode=xml, dc:subject.",
            ATOM,
            feeds.atom03_feed,
        )
        add(
            "/feeds/jsonfeed1.json",
            "feeds",
            "JSON Feed 1.0: author objects, one numeric id, content_html, image, banner_image, "
            "attachments.",
            "application/json; charset=utf-8",
            feeds.jsonfeed1_feed,
        )
        add(
            "/feeds/jsonfeed11.json",
            "feeds",
            "JSON Feed 1.1: authors lists, language, content_html + content_text, image, "
            "attachments.",
            JSON_FEED,
            feeds.jsonfeed11_feed,
        )
        add(
            "/feeds/summary-only.xml",
            "feeds",
            "RSS 2.0 with summaries only (no content:encoded); the full text is on the linked "
            "article pages.",
            RSS,
            feeds.summary_only_feed,
        )
        add(
            "/feeds/relative-links.xml",
            "feeds",
            "RSS 2.0 with relative <link>s, a relative enclosure and relative / root-relative / "
            "protocol-relative <img>s.",
            RSS,
            feeds.relative_links_feed,
        )
        add(
            "/feeds/xml-base.atom",
            "feeds",
            "Atom 1.0 with xml:base on the feed, on entries and on a content element; relative "
            "links and images.",
            ATOM,
            feeds.xml_base_feed,
        )
        add(
            "/rsshub/36kr/news/latest",
            "feeds",
            "RSSHub-style RSS 2.0: full HTML in CDATA <description>, bare <author>, ttl 5, an "
            "'Invalid Date'.",
            RSS,
            feeds.rsshub_feed,
        )
        gzipped = functools.cache(lambda: gzip.compress(feeds.rss2_feed(self.base), mtime=0))

        def gzip_feed(request: Request) -> Response:
            vary = [("Vary", "Accept-Encoding")]
            if "gzip" in (request.headers.get("accept-encoding") or ""):
                return Response(
                    body=gzipped(),
                    content_type=RSS,
                    headers=[*vary, ("Content-Encoding", "gzip")],
                    last_modified=SITE_LAST_MODIFIED,
                )
            return Response(
                body=feeds.rss2_feed(self.base),
                content_type=RSS,
                headers=vary,
                last_modified=SITE_LAST_MODIFIED,
            )

        self.add(
            Route(
                "/feeds/gzip.xml",
                "feeds",
                "The RSS 2.0 feed, gzip-encoded when Accept-Encoding allows (Vary: "
                "Accept-Encoding).",
                gzip_feed,
                200,
                RSS,
            )
        )

        add(
            "/encoding/gbk.xml",
            "encoding",
            'RSS 2.0 encoded in GBK, declared encoding="gbk", with GBK-only characters.',
            "application/rss+xml",
            feeds.gbk_feed,
        )
        add(
            "/encoding/gb2312-with-gbk-chars.xml",
            "encoding",
            'GBK bytes declared encoding="gb2312": characters outside GB2312 '
            "(堃 喆 玥 镕 們) break a strict decoder.",
            "application/rss+xml",
            feeds.gb2312_declared_feed,
        )
        add(
            "/encoding/big5.xml",
            "encoding",
            'RSS 2.0 in Big5 (traditional Chinese), declared encoding="big5".',
            "application/rss+xml",
            feeds.big5_feed,
        )
        add(
            "/encoding/utf8-bom.xml",
            "encoding",
            "UTF-8 with a byte order mark before the XML declaration.",
            "application/rss+xml",
            feeds.utf8_bom_feed,
        )
        add(
            "/encoding/charset-in-header-only.xml",
            "encoding",
            "GBK bytes, no encoding in the XML declaration: only Content-Type's charset=gbk says "
            "so.",
            "application/rss+xml; charset=gbk",
            feeds.charset_in_header_feed,
        )

        def changing(render: Callable[[str, int], bytes], content_type: str) -> Handler:
            def handler(request: Request) -> Response:
                version = int(request.query.get("version") or request.site.state.changing_version)
                modified = datetime(2021, 4, 1, 12, tzinfo=UTC) + timedelta(days=version)
                return Response(
                    body=render(self.base, version),
                    content_type=content_type,
                    last_modified=modified,
                )

            return handler

        description = (
            "The changing feed ({kind}): version from ?version=N, else the site's (POST "
            "/__changing__/bump). "
            "v1: A B C; every later version edits A; v2 adds D; v3+ drop B. ETag and "
            "Last-Modified follow."
        )
        self.add(
            Route(
                "/changing/rss.xml",
                "changing",
                description.format(kind="RSS 2.0"),
                changing(feeds.changing_rss, RSS),
                200,
                RSS,
            )
        )
        self.add(
            Route(
                "/changing/atom.xml",
                "changing",
                description.format(kind="Atom, with <updated>"),
                changing(feeds.changing_atom, ATOM),
                200,
                ATOM,
            )
        )

    def _add_fidelity_routes(self) -> None:
        add = self.add_static
        add(
            "/fidelity/rss.xml",
            "fidelity",
            "RSS 2.0 whose content:encoded bodies must be archived byte for byte (lazy data-src, "
            "srcset, <picture>, <iframe>, odd attributes).",
            RSS,
            feeds.fidelity_rss,
        )
        add(
            "/fidelity/atom.xml",
            "fidelity",
            "The same bodies as Atom type=html (escaped): after XML unescaping, byte for byte.",
            ATOM,
            feeds.fidelity_atom,
        )
        add(
            "/fidelity/feed.json",
            "fidelity",
            "The same bodies as JSON Feed content_html.",
            JSON_FEED,
            feeds.fidelity_json,
        )
        add(
            "/fidelity/expected.json",
            "fidelity",
            "guid -> the exact body string the three fidelity feeds carry.",
            JSON,
            feeds.fidelity_expected,
        )

    # -- broken and misbehaving ---------------------------------------------------------------

    def _add_broken_routes(self) -> None:
        add = self.add_static
        add(
            "/broken/not-well-formed.xml",
            "broken",
            "Not well-formed RSS: two good items, an unescaped '&', a mismatched tag, one more "
            "good item.",
            RSS,
            feeds.not_well_formed_feed,
        )
        add(
            "/broken/html-as-feed.xml",
            "broken",
            "An HTML article page served as application/rss+xml.",
            RSS,
            feeds.html_as_feed,
        )
        add(
            "/broken/wrong-content-type.xml",
            "broken",
            "A valid RSS 2.0 feed served as text/html.",
            HTML,
            feeds.rss2_feed,
        )
        add("/broken/empty.xml", "broken", "200 with an empty body.", RSS, lambda base: b"")
        add(
            "/broken/404.xml",
            "broken",
            "404 Not Found.",
            HTML,
            lambda base: _page("Not found", "<h1>404</h1>"),
            status=404,
            last_modified=None,
        )
        add(
            "/broken/410.xml",
            "broken",
            "410 Gone: a feed its publisher took down for good.",
            HTML,
            lambda base: _page("Gone", "<h1>410</h1>"),
            status=410,
            last_modified=None,
        )
        add(
            "/broken/500.xml",
            "broken",
            "500 Internal Server Error.",
            HTML,
            lambda base: _page("Error", "<h1>500</h1>"),
            status=500,
            last_modified=None,
        )
        add(
            "/broken/no-guids.xml",
            "broken",
            "RSS 2.0 whose items have links but no guids.",
            RSS,
            feeds.no_guids_feed,
        )
        add(
            "/broken/no-links.xml",
            "broken",
            "RSS 2.0 whose items have guids (isPermaLink=false) but no links.",
            RSS,
            feeds.no_links_feed,
        )
        add(
            "/broken/bare-items.xml",
            "broken",
            "RSS 2.0 items with title and content only: no guid, no link, no date.",
            RSS,
            feeds.bare_items_feed,
        )
        add(
            "/broken/duplicate-guids.xml",
            "broken",
            "Two different items with the same guid.",
            RSS,
            feeds.duplicate_guids_feed,
        )
        add(
            "/broken/bad.json",
            "broken",
            "A JSON Feed cut in half: not valid JSON.",
            JSON_FEED,
            feeds.bad_json_feed,
        )

        full = functools.cache(lambda: feeds.rss2_feed(self.base))

        def truncated(request: Request) -> Response:
            return Response(
                body=full(), content_type=RSS, truncate_to=len(full()) // 2, send_etag=False
            )

        self.add(
            Route(
                "/broken/truncated.xml",
                "broken",
                "Content-Length of the whole feed, but the connection drops halfway through the "
                "body.",
                truncated,
                200,
                RSS,
            )
        )

        def huge_feed(request: Request) -> Response:
            megabytes = min(int(request.query.get("mb", "5")), 200)
            head = b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            item = (
                b"<item><title>Filler</title><link>http://example.com/x</link><description>"
                + b"x" * 1000
                + b"</description></item>\n"
            )
            count = megabytes * 1024 * 1024 // len(item)
            tail = b"</channel></rss>\n"

            def stream() -> Iterator[bytes]:
                yield head
                for _ in range(count):
                    yield item
                yield tail

            length = len(head) + count * len(item) + len(tail)
            return Response(
                content_type=RSS,
                stream=stream(),
                length=length,
                etag=f'"huge-feed-{megabytes}"',
                last_modified=SITE_LAST_MODIFIED,
            )

        self.add(
            Route(
                "/broken/huge-feed.xml",
                "broken",
                "A well-formed RSS feed of ?mb=MEGABYTES (default 5), streamed with "
                "Content-Length.",
                huge_feed,
                200,
                RSS,
            )
        )

        def slow(request: Request) -> Response:
            return Response(body=full(), content_type=RSS, last_modified=SITE_LAST_MODIFIED)

        self.add(
            Route(
                "/slow/rss.xml",
                "slow",
                "The RSS 2.0 feed after a delay: ?delay=SECONDS (default 3). Any path takes "
                "?delay= too.",
                slow,
                200,
                RSS,
                default_delay=3.0,
            )
        )

        def trickle(request: Request) -> Response:
            delay = min(float(request.query.get("delay", "3")), 60.0)
            body = full()
            pieces = 10
            size = -(-len(body) // pieces)

            def stream() -> Iterator[bytes]:
                for start in range(0, len(body), size):
                    yield body[start : start + size]
                    time.sleep(delay / pieces)

            return Response(content_type=RSS, stream=stream(), length=len(body), send_etag=False)

        self.add(
            Route(
                "/slow/trickle.xml",
                "slow",
                "Headers at once, then the body in 10 pieces spread over ?delay=SECONDS (default "
                "3).",
                trickle,
                200,
                RSS,
                handles_delay=True,
            )
        )

        def redirect(status: int, location: str) -> Handler:
            return lambda request: Response(
                status,
                _page("Moved", f'<a href="{escape(location)}">moved</a>'),
                HTML,
                [("Location", location)],
                send_etag=False,
            )

        redirects = (
            ("/redirect/feed.xml", 301, f"{self.base}/feeds/rss2.xml", "301 to /feeds/rss2.xml."),
            (
                "/redirect/chain.xml",
                302,
                f"{self.base}/redirect/chain-2.xml",
                "302 to /redirect/chain-2.xml, which 307s on to the Atom feed.",
            ),
            (
                "/redirect/chain-2.xml",
                307,
                "../feeds/atom10.xml",
                "307 with a relative Location (../feeds/atom10.xml).",
            ),
            (
                "/redirect/permanent.json",
                308,
                "/feeds/jsonfeed11.json",
                "308 to the JSON Feed 1.1 (root-relative Location).",
            ),
            ("/redirect/to-404.xml", 302, "/broken/404.xml", "302 to a 404."),
            (
                "/redirect/loop.xml",
                302,
                f"{self.base}/redirect/loop-2.xml",
                "A redirect loop: loop.xml -> loop-2.xml -> loop.xml ...",
            ),
            (
                "/redirect/loop-2.xml",
                302,
                f"{self.base}/redirect/loop.xml",
                "The other half of the loop.",
            ),
        )
        for path, status, location, description in redirects:
            self.add(Route(path, "redirect", description, redirect(status, location), status, HTML))

    def _add_cache_routes(self) -> None:
        def cache_feed(path: str, **overrides: Any) -> Callable[[str], bytes]:
            def make(base: str) -> bytes:
                channel = feeds.channel(
                    base,
                    path,
                    entries=[feeds.article_entry(article, base) for article in ARTICLES[:2]],
                    **overrides,
                )
                return rss2(channel).encode()

            return make

        def variant(path: str, description: str, **fields: Any) -> None:
            body = functools.cache(lambda: cache_feed(path)(self.base))
            self.add(
                Route(
                    path,
                    "cache",
                    description,
                    lambda request: Response(body=body(), content_type=RSS, **fields),
                    200,
                    RSS,
                )
            )

        self.add_static(
            "/cache/max-age.xml",
            "cache",
            "Cache-Control: max-age=3600 and <ttl>60</ttl>, <skipHours>.",
            RSS,
            cache_feed("/cache/max-age.xml", ttl=60, skip_hours=[1, 2, 3]),
            headers=[("Cache-Control", "public, max-age=3600")],
        )
        variant("/cache/etag-only.xml", "ETag but no Last-Modified.", last_modified=None)
        variant(
            "/cache/last-modified-only.xml",
            "Last-Modified but no ETag.",
            send_etag=False,
            last_modified=SITE_LAST_MODIFIED,
        )
        variant(
            "/cache/no-validators.xml",
            "Neither ETag nor Last-Modified: always 200.",
            send_etag=False,
            last_modified=None,
        )
        variant(
            "/cache/weak-etag.xml",
            'A weak ETag (W/"..."), matched by weak comparison.',
            etag='W/"mocksite-weak-1"',
            last_modified=SITE_LAST_MODIFIED,
        )

        too_many = _page("Too Many Requests", "<h1>429</h1>")

        def always_429(request: Request) -> Response:
            retry = request.query.get("retry_after", "120")
            return Response(429, too_many, HTML, [("Retry-After", retry)], send_etag=False)

        self.add(
            Route(
                "/cache/429.xml",
                "cache",
                "Always 429 Too Many Requests with Retry-After: 120 (or ?retry_after=).",
                always_429,
                429,
                HTML,
            )
        )
        once = functools.cache(lambda: cache_feed("/cache/429-once.xml")(self.base))

        def first_429(request: Request) -> Response:
            if request.site.state.count_hit(request.path) == 1:
                return Response(429, too_many, HTML, [("Retry-After", "1")], send_etag=False)
            return Response(body=once(), content_type=RSS, last_modified=SITE_LAST_MODIFIED)

        self.add(
            Route(
                "/cache/429-once.xml",
                "cache",
                "429 with Retry-After: 1 on the first request since the last /__reset__, then "
                "the feed.",
                first_429,
                429,
                HTML,
            )
        )

        def unavailable(request: Request) -> Response:
            when = format_datetime(
                datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120), usegmt=True
            )
            return Response(
                503,
                _page("Unavailable", "<h1>503</h1>"),
                HTML,
                [("Retry-After", when)],
                send_etag=False,
            )

        self.add(
            Route(
                "/cache/503.xml",
                "cache",
                "503 with Retry-After as an HTTP date, two minutes ahead.",
                unavailable,
                503,
                HTML,
            )
        )

    # -- images -------------------------------------------------------------------------------

    def _add_image_routes(self) -> None:
        images = static_images()
        descriptions = {
            "/images/photo.png": "PNG, 64x48 RGB gradient.",
            "/images/alpha.png": "PNG, 32x32 RGBA with a transparent background.",
            "/images/animated.gif": "GIF89a, 16x16, two frames, looping.",
            "/images/photo.webp": "WebP (lossless VP8L), 40x30.",
            "/images/photo.jpg": "JPEG (baseline), 64x32.",
            "/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000": (
                "JPEG at a URL with no extension (36kr CDN style), 72x24."
            ),
            "/images/cdn/v2_ab8fa89d10bd420ca3a13d217ca67bea_img_000": (
                "PNG at a URL with no extension, 52x40."
            ),
            "/images/same/a.png": "The same bytes as /images/same/b.png.",
            "/images/same/b.png": "The same bytes as /images/same/a.png.",
            "/images/octet-stream.png": "A PNG served as application/octet-stream.",
        }
        for path, description in descriptions.items():
            image = images[path]
            content_type = (
                "application/octet-stream"
                if path.endswith("octet-stream.png")
                else image.media_type
            )
            self.add_static(
                path,
                "images",
                description,
                content_type,
                functools.partial(_constant, image.data),
                last_modified=IMAGES_LAST_MODIFIED,
            )

        hotlink, no_referrer = images["/images/hotlink.jpg"], images["/images/no-referrer.jpg"]
        forbidden = _page("Forbidden", "<h1>403</h1>")

        def same_site_referer(request: Request) -> Response:
            referer = urlsplit(request.headers.get("referer") or "")
            base = urlsplit(self.base)
            if referer.hostname in ("127.0.0.1", "localhost") and referer.port == base.port:
                return Response(
                    body=hotlink.data, content_type="image/jpeg", last_modified=IMAGES_LAST_MODIFIED
                )
            return Response(403, forbidden, HTML, send_etag=False)

        def refuses_referer(request: Request) -> Response:
            if request.headers.get("referer"):
                return Response(403, forbidden, HTML, send_etag=False)
            return Response(
                body=no_referrer.data, content_type="image/jpeg", last_modified=IMAGES_LAST_MODIFIED
            )

        self.add(
            Route(
                "/images/hotlink.jpg",
                "images",
                "JPEG 32x32 that needs a Referer from this site; 403 without one or with another "
                "site's.",
                same_site_referer,
                403,
                HTML,
            )
        )
        self.add(
            Route(
                "/images/no-referrer.jpg",
                "images",
                "JPEG 32x32 that is 403 whenever a Referer is sent.",
                refuses_referer,
                200,
                "image/jpeg",
            )
        )
        photo = images["/images/photo.png"]

        def fails_once(request: Request) -> Response:
            if request.site.state.count_hit(request.path) == 1:
                return Response(404, _page("Not found", "<h1>404</h1>"), HTML, send_etag=False)
            return Response(body=photo.data, content_type="image/png")

        self.add(
            Route(
                "/images/fails-once.png",
                "images",
                "404 on the first request since the last /__reset__, then /images/photo.png's "
                "bytes.",
                fails_once,
                404,
                HTML,
            )
        )
        self.add_static(
            "/images/fake.jpg",
            "images",
            "An HTML page served as image/jpeg.",
            "image/jpeg",
            lambda base: _page("Hotlinking denied", "<p>盗链图片</p>"),
            last_modified=IMAGES_LAST_MODIFIED,
        )
        self.add_static(
            "/images/missing.png",
            "images",
            "404 for an image.",
            HTML,
            lambda base: _page("Not found", "<h1>404</h1>"),
            status=404,
            last_modified=None,
        )
        self.add_static(
            "/images/bomb.png",
            "images",
            "A 'decompression bomb' PNG: the header claims 100000x100000 pixels; the file is tiny.",
            "image/png",
            lambda base: bomb_png().data,
            last_modified=IMAGES_LAST_MODIFIED,
        )

        def huge(chunked: bool) -> Handler:
            def handler(request: Request) -> Response:
                width = int(request.query.get("width", "4000"))
                height = int(request.query.get("height", "2500"))
                length = None if chunked else huge_png_length(width, height)
                etag = f'"huge-{width}x{height}"'
                return Response(
                    content_type="image/png",
                    stream=huge_png_stream(width, height),
                    length=length,
                    etag=etag,
                    last_modified=IMAGES_LAST_MODIFIED,
                )

            return handler

        self.add(
            Route(
                "/images/huge.png",
                "images",
                "A valid 4000x2500 PNG of 30 MB, generated while streaming, with Content-Length "
                "(?width=&height= to change).",
                huge(chunked=False),
                200,
                "image/png",
            )
        )
        self.add(
            Route(
                "/images/huge-chunked.png",
                "images",
                "The same huge PNG, chunked: no Content-Length.",
                huge(chunked=True),
                200,
                "image/png",
            )
        )

        def generated(request: Request) -> Response:
            seed, extension = int(request.params[0]), request.params[1]
            image = generated_image(seed, extension) if seed < 100_000 else None
            if image is None:
                return Response(404, _page("Not found", "<h1>404</h1>"), HTML, send_etag=False)
            return Response(
                body=image.data, content_type=image.media_type, last_modified=IMAGES_LAST_MODIFIED
            )

        self.add(
            Route(
                "/images/gen/{n}.{png,jpg,webp}",
                "images",
                "A generated image, different bytes for every n: PNG 48x32, JPEG 48x32, WebP "
                "(24+n%16)x16.",
                generated,
                200,
                "image/png",
                pattern=re.compile(r"/images/gen/(\d+)\.(png|jpg|webp)"),
                example="/images/gen/1.png",
            )
        )

    # -- pages --------------------------------------------------------------------------------

    def _add_page_routes(self) -> None:
        for article in ARTICLES:
            self.add_static(
                f"/articles/{article.slug}.html",
                "pages",
                f"Article page: canonical link, og:image, lazy-loaded images. {article.title}",
                HTML,
                functools.partial(_article_page, article),
                last_modified=article.published,
            )
        keras = ARTICLES_BY_SLUG["keras"]
        self.add_static(
            "/p/1188230",
            "pages",
            "A short URL for the Keras article whose <link rel=canonical> is /articles/keras.html.",
            HTML,
            lambda base: article_page(keras, base).encode(),
        )
        samples = (Path(__file__).resolve().parents[2] / "archiver" / "samples").as_uri()
        self.add_static(
            "/pages/file-base.html",
            "pages",
            "An article page whose <base href> is a file: URL (the repository's samples "
            "directory) and whose image is relative to it: a web page naming a local file.",
            HTML,
            lambda base: _page(
                "Local base",
                "<article><h1>Local base</h1><p>A page of the web.</p>"
                '<img src="cover.png"></article>',
                head=f'<base href="{samples}/">',
            ),
        )
        self.add_static(
            "/embed/video.html",
            "pages",
            "The page that the fidelity bodies embed in an <iframe>.",
            HTML,
            lambda base: _page("Video", "<video controls></video>"),
        )
        self.add_static(
            "/media/episode-1.mp3",
            "pages",
            "A 1 KiB stand-in MP3 (ID3 header, silence): an audio enclosure.",
            "audio/mpeg",
            lambda base: b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(1014),
        )
        self.add_static(
            "/media/clip.mp4",
            "pages",
            "A tiny stand-in MP4 (an ftyp box and padding).",
            "video/mp4",
            lambda base: b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(488),
        )

        def sitemap_index(base: str) -> bytes:
            entries = "".join(
                f"<sitemap><loc>{base}{path}</loc><lastmod>2021-05-11T20:00:00+08:00</lastmod></sitemap>\n"
                for path in ("/sitemaps/articles.xml", "/sitemaps/news.xml")
            )
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{entries}</sitemapindex>\n"
            ).encode()

        def articles_sitemap(base: str) -> bytes:
            urls = "".join(
                f"<url><loc>{base}/articles/{article.slug}.html</loc><lastmod>{article.published.isoformat()}</lastmod>"
                "<changefreq>monthly</changefreq>"
                + "".join(
                    f"<image:image><image:loc>{base}{path}</image:loc></image:image>"
                    for path in article.images
                )
                + "</url>\n"
                for article in ARTICLES
            )
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n'
                f"{urls}</urlset>\n"
            ).encode()

        def news_sitemap(base: str) -> bytes:
            urls = "".join(
                f"<url><loc>{base}/articles/{article.slug}.html</loc><news:news><news:publication>"
                "<news:name>Mock "
                f"Site</news:name><news:language>{article.language[:2]}</news:language></news:publication>"
                f"<news:publication_date>{article.published.isoformat()}</news:publication_date>"
                f"<news:title>{escape(article.title)}</news:title></news:news></url>\n"
                for article in ARTICLES
            )
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
                f"{urls}</urlset>\n"
            ).encode()

        self.add_static(
            "/sitemap.xml",
            "sitemaps",
            "Sitemap index naming the two sitemaps below.",
            XML,
            sitemap_index,
        )
        self.add_static(
            "/sitemaps/articles.xml",
            "sitemaps",
            "urlset of the article pages with lastmod (offsets) and image:image.",
            XML,
            articles_sitemap,
        )
        self.add_static(
            "/sitemaps/news.xml",
            "sitemaps",
            "Google News sitemap of the article pages (news:publication_date, news:title).",
            XML,
            news_sitemap,
        )
        self.add_static(
            "/sitemaps/articles.xml.gz",
            "sitemaps",
            "The articles urlset gzip-compressed, served as application/gzip (no "
            "Content-Encoding), as sitemap.xml.gz files are.",
            "application/gzip",
            lambda base: gzip.compress(articles_sitemap(base), mtime=0),
        )

        def urlset(*urls: str) -> bytes:
            listed = "".join(
                f"<url><loc>{url}</loc><lastmod>2021-05-01</lastmod></url>\n" for url in urls
            )
            return (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"{listed}</urlset>\n"
            ).encode()

        def broken_sitemap(base: str) -> bytes:
            return urlset(
                *(
                    base + p
                    for p in ("/articles/keras.html", "/broken/404.xml", "/images/photo.png")
                )
            )

        self.add_static(
            "/sitemaps/broken.xml",
            "sitemaps",
            "urlset listing one article page, a 404 and a PNG image (two pages that fail).",
            XML,
            broken_sitemap,
        )

        def private_sitemap(base: str) -> bytes:
            return urlset(
                f"{base}/articles/keras.html",
                base.replace("127.0.0.1", "localhost") + "/articles/intro.html",
                "http://169.254.169.254/latest/meta-data/",
            )

        self.add_static(
            "/sitemaps/private.xml",
            "sitemaps",
            "urlset listing an article page of this host, one of this server under the name "
            "localhost, and a cloud metadata address (169.254.169.254): the last two are "
            "private addresses of other hosts.",
            XML,
            private_sitemap,
        )
        self.add_static(
            "/sitemaps/broken-index.xml",
            "sitemaps",
            "Sitemap index naming /sitemaps/broken.xml and /sitemaps/missing.xml (a 404).",
            XML,
            lambda base: (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                f"<sitemap><loc>{base}/sitemaps/broken.xml</loc></sitemap>\n"
                f"<sitemap><loc>{base}/sitemaps/missing.xml</loc></sitemap>\n"
                "</sitemapindex>\n"
            ).encode(),
        )

    # -- the big site -------------------------------------------------------------------------

    def _add_whole_routes(self) -> None:
        add = self.add_static
        for path, description, content_type, make in (
            (
                "/whole/summary.atom",
                "Atom with teasers only: the articles are on their pages.",
                ATOM,
                whole.summary_atom,
            ),
            (
                "/whole/truncated.xml",
                "RSS cut off with 'Read more' (a page the Atom feed names).",
                RSS,
                whole.truncated_rss,
            ),
            (
                "/whole/full.xml",
                "RSS with the whole article in <description>.",
                RSS,
                whole.full_rss,
            ),
            (
                "/whole/ruled.xml",
                "Teasers of a page a site rule matches and of one redesigned.",
                RSS,
                whole.ruled_rss,
            ),
            (
                "/whole/failing.xml",
                "Teasers whose pages answer 404, 500 and a consent wall.",
                RSS,
                whole.failing_rss,
            ),
        ):
            add(path, "whole", description, content_type, make)
        for page in whole.PAGES:
            add(
                f"/whole/pages/{page.slug}.html",
                "whole",
                f"An article page with {page.metadata} metadata, lazy images and boilerplate.",
                HTML,
                functools.partial(whole.article_page, page),
            )
        add(
            "/whole/pages/ruled.html",
            "whole",
            "The article in div.story-text.",
            HTML,
            whole.ruled_page,
        )
        add(
            "/whole/pages/redesigned.html",
            "whole",
            "The article in div.article-body.",
            HTML,
            functools.partial(whole.ruled_page, redesigned=True),
        )
        add(
            "/whole/pages/consent.html",
            "whole",
            "A consent wall instead of the article.",
            HTML,
            whole.consent_page,
        )
        add(
            "/whole/pages/missing.html",
            "whole",
            "An article page that is gone.",
            HTML,
            lambda base: b"<h1>Not found</h1>",
            status=404,
        )
        add(
            "/whole/pages/broken.html",
            "whole",
            "An article page whose server fails.",
            HTML,
            lambda base: b"<h1>Internal error</h1>",
            status=500,
        )

    def _add_copies_routes(self) -> None:
        for path, description, content_type, make in (
            ("/copies/origin.xml", "The originals, as their own site published them.", RSS,
             copies.origin_rss),
            ("/copies/noted.xml", "Copies with an editor's note, a new title, other images.",
             RSS, copies.noted_rss),
            ("/copies/mirror.xml", "Copies re-marked-up, with an ad and boilerplate (Atom).",
             ATOM, copies.mirror_atom),
            ("/copies/traditional.xml", "The Chinese copies in Traditional characters.", RSS,
             copies.traditional_rss),
            ("/copies/rsshub.xml", "An RSSHub route of the origin's feed, at its own URLs.", RSS,
             copies.rsshub_rss),
            ("/copies/truth.json", "Every entry's URL and the story it belongs to.", JSON,
             copies.truth),
        ):  # fmt: skip
            self.add_static(path, "copies", description, content_type, make)

    def _add_big_routes(self) -> None:
        count, per_feed = self.options.big_feeds, self.options.big_per_feed
        names = {"xml": "RSS 2.0", "atom": "Atom 1.0", "json": "JSON Feed 1.1"}
        for index in range(count):
            path = bigsite.big_feed_path(index)
            kind = bigsite.big_feed_format(index)
            self.add_static(
                path,
                "big",
                f"Big site feed {index} ({names[kind]}), {per_feed} articles.",
                bigsite.CONTENT_TYPES[kind],
                functools.partial(_big_feed, index, per_feed),
                last_modified=bigsite.big_feed_last_modified(index, per_feed=per_feed),
            )
        for index in range(count):
            self.add_static(
                bigsite.big_summary_feed_path(index),
                "big",
                f"Teasers of big site feed {index} (RSS 2.0), {per_feed} articles on their pages.",
                bigsite.CONTENT_TYPES["xml"],
                functools.partial(_big_summary_feed, index, per_feed),
                last_modified=bigsite.big_feed_last_modified(index, per_feed=per_feed),
            )
        self.add_static(
            "/big/opml.xml",
            "big",
            f"OPML listing the {count} big-site feeds.",
            "text/x-opml; charset=utf-8",
            lambda base: feeds.opml(
                "Big site",
                [
                    (f"Big feed {i:02d}", f"{base}{bigsite.big_feed_path(i)}", "big")
                    for i in range(count)
                ],
            ),
        )

        def article(request: Request) -> Response:
            feed, number = int(request.params[0]), int(request.params[1])
            if feed >= count or number >= per_feed:
                return Response(404, _page("Not found", "<h1>404</h1>"), HTML, send_etag=False)
            return Response(
                body=bigsite.big_article_page(feed, number, base=self.base),
                content_type=HTML,
                last_modified=SITE_LAST_MODIFIED,
            )

        self.add(
            Route(
                "/big/articles/{feed}/{n}.html",
                "big",
                "The page of big-site article n of feed (the feeds' links).",
                article,
                200,
                HTML,
                pattern=re.compile(r"/big/articles/(\d+)/(\d+)\.html"),
                example="/big/articles/00/000.html",
            )
        )

    # -- control ------------------------------------------------------------------------------

    def _add_edge_routes(self) -> None:
        """Issue 14's hard edges (:mod:`tests.mocksite.edges`)."""
        self.add_static(
            "/edges/hostile.xml",
            "edges",
            "RSS whose entry carries scripts, event attributes, javascript: and data: links, "
            "forms, iframes, svg, styles (edges.HOSTILE_BODY).",
            RSS,
            edges.hostile_feed,
        )
        self.add_static(
            "/edges/empty-items.xml",
            "edges",
            "RSS with two empty <item>s, an untitled one with content and a normal one.",
            RSS,
            edges.empty_items_feed,
        )

        def many_images(request: Request) -> Response:
            count = min(int(request.query.get("n", "40")), 1000)
            body = edges.many_images_feed(self.base, count)
            return Response(body=body, content_type=RSS, send_etag=False)

        self.add(
            Route(
                "/edges/many-images.xml",
                "edges",
                "RSS of ?n= entries (40) with six distinct generated images each.",
                many_images,
                200,
                RSS,
            )
        )
        self.add_static(
            "/edges/rebinding.xml",
            "edges",
            "RSS whose images are on evil.rebind.test (127.0.0.1 to tests.rebinding's "
            "resolver), one of them through /edges/redirect.",
            RSS,
            edges.rebinding_feed,
        )

        def redirect_to(request: Request) -> Response:
            target = request.query.get("to", "/")
            return Response(302, b"", HTML, [("Location", target)], send_etag=False)

        self.add(
            Route(
                "/edges/redirect",
                "edges",
                "302 to ?to= (any URL).",
                redirect_to,
                302,
                HTML,
            )
        )
        for path, failures, status, retry_after, description in (
            ("/edges/429-once.xml", 1, 429, "1", "429 with Retry-After: 1"),
            ("/edges/503-once.xml", 1, 503, "1", "503 with Retry-After: 1"),
            ("/edges/500-twice.xml", 2, 500, None, "500, twice"),
            ("/edges/503-always.xml", 1_000_000, 503, None, "503 without Retry-After, always"),
            ("/edges/429-long.xml", 1_000_000, 429, "3600", "429 with Retry-After: 3600"),
        ):
            name = path.removeprefix("/edges/").removesuffix(".xml")
            self.add(
                Route(
                    path,
                    "edges",
                    f"{description} to the first requests of each ?key=, then a feed.",
                    edges.answering_after(failures, status, retry_after, name),
                    status,
                    HTML,
                )
            )

    def _add_control_routes(self) -> None:
        state = self.state

        def read_log(request: Request) -> Response:
            with state.lock:
                body = json.dumps(state.log, ensure_ascii=False).encode()
            return Response(body=body, content_type=JSON, send_etag=False)

        def clear_log(request: Request) -> Response:
            with state.lock:
                state.log.clear()
            return Response(204, send_etag=False)

        def reset(request: Request) -> Response:
            state.reset()
            return Response(204, send_etag=False)

        def set_version(version: Callable[[int, Request], int]) -> Handler:
            def handler(request: Request) -> Response:
                with state.lock:
                    state.changing_version = max(1, version(state.changing_version, request))
                    body = json.dumps({"version": state.changing_version}).encode()
                return Response(body=body, content_type=JSON, send_etag=False)

            return handler

        control = (
            (
                "GET",
                "/__log__",
                "The request log: [{method, path, headers (lower-case names), status, time}], "
                "control paths excluded.",
                read_log,
                200,
                JSON,
            ),
            ("DELETE", "/__log__", "Empty the request log.", clear_log, 204, None),
            (
                "POST",
                "/__reset__",
                "Empty the log, set the changing feed back to version 1, forget hit counts.",
                reset,
                204,
                None,
            ),
            (
                "POST",
                "/__changing__/bump",
                "Next version of the changing feed; answers {version}.",
                set_version(lambda old, request: old + 1),
                200,
                JSON,
            ),
            (
                "POST",
                "/__changing__",
                "Set the changing feed's version: ?version=N; answers {version}.",
                set_version(lambda old, request: int(request.query.get("version", old))),
                200,
                JSON,
            ),
            (
                "GET",
                "/__health__",
                "'ok'.",
                lambda request: Response(body=b"ok\n", content_type=TEXT, send_etag=False),
                200,
                TEXT,
            ),
        )
        for method, path, description, handler, status, content_type in control:
            self.add(
                Route(path, "control", description, handler, status, content_type, method=method)
            )

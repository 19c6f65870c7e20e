"""The feed spider: feeds, sitemaps and article pages in, one raw ArticleItem per article out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from archiver.crawling.policy import parse_cache_control, parse_retry_after
from archiver.crawling.runner import SourceConfig, check_source_url
from archiver.crawling.signals import SourceOutcome, source_fetched
from archiver.crawling.sitemaps import SitemapCrawl
from archiver.errors import FeedParseError, PageParseError
from archiver.items import ArticleItem, MediaRef
from archiver.normalize.urls import canonicalize_url, tracking_params
from archiver.readers.feeds import ParsedFeed, parse_feed
from archiver.readers.pages import announced_feeds, parse_article_page
from archiver.readers.rsshub import hide_secrets, is_route, resolve_route, without_secrets
from archiver.readers.sitemaps import (
    ParsedSitemap,
    SitemapEntry,
    merged,
    newest_first,
    newest_first_key,
    read_sitemap,
)

logger = logging.getLogger(__name__)


FEED_KINDS = frozenset({"rss", "rdf", "atom", "json", "rsshub"})
"""Source kinds that are feeds: such a known source answering with an HTML page has failed."""

NOT_PAGE_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
)
"""A document served as one of these that is not a feed is a broken feed, not a page."""

MAX_SITEMAP_DEPTH = 3
"""Sitemap indexes followed within one another (sitemaps.org allows one level)."""

MAX_REPORTED_FAILURES = 5
"""Failed pages named in a sitemap source's error text; the rest are counted."""


def split_urls(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Spider arguments come as one string from ``-a url=...``; allow several, space or
    comma separated, and lists from code."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [u.strip() for u in value if u and u.strip()]


class FeedSpider(scrapy.Spider):
    """Fetch each source URL once, yield its articles raw, and report how each source went.

    What a URL is, is read from what it answers: a feed (its entries), an HTML page that
    announces a feed (that feed), a sitemap, sitemap index or robots.txt naming sitemaps (the
    pages they list, newest first, at most ``ARCHIVER_SITEMAP_MAX_PAGES``), else an article
    page (one article). Arguments: ``url`` (one or more URLs, space or comma separated),
    ``category`` (comma separated, placed first on every article) and ``timezone`` (IANA
    zone for naive dates). They default to the ``ARCHIVER_CATEGORIES`` /
    ``ARCHIVER_TIMEZONE`` settings.
    """

    name = "feed"

    #: How many ``<link rel=alternate>`` feeds of an HTML page are followed.
    MAX_DISCOVERED_FEEDS = 1

    #: Whether the spider must be given its sources (a worker is fed them as it runs).
    URLS_REQUIRED = True

    def __init__(
        self,
        url: str | list[str] | None = None,
        category: str | list[str] | None = None,
        timezone: str | None = None,
        sources: list[SourceConfig] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_urls = [check_source_url(u) for u in split_urls(url)]
        self.source_configs = {s.url: s for s in sources or []}
        self.source_urls += [u for u in self.source_configs if u not in self.source_urls]
        if not self.source_urls and self.URLS_REQUIRED:
            raise ValueError("the feed spider needs at least one URL: -a url=https://...")
        self.categories = [c.strip() for c in split_urls(category)] if category else None
        self.timezone = timezone
        self.sitemap_crawls: dict[str, SitemapCrawl] = {}
        self.max_pages = 1000
        self.max_sitemaps = 50
        self.max_sitemap_bytes = 0
        self.tracking_params: tuple[str, ...] = tracking_params()
        self.rsshub_instance: str | None = None
        """``ARCHIVER_RSSHUB_URL``: where sources given as RSSHub routes are fetched."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_pages = settings.getint("ARCHIVER_SITEMAP_MAX_PAGES", 1000)
        spider.max_sitemaps = settings.getint("ARCHIVER_SITEMAP_MAX_SITEMAPS", 50)
        spider.max_sitemap_bytes = settings.getint("DOWNLOAD_MAXSIZE", 0)
        spider.tracking_params = tracking_params(settings.getlist("ARCHIVER_TRACKING_PARAMS"))
        spider.rsshub_instance = settings.get("ARCHIVER_RSSHUB_URL")
        return spider

    async def start(self) -> AsyncIterator[Request]:
        if self.categories is None:
            self.categories = self.settings.getlist("ARCHIVER_CATEGORIES")
        self.timezone = self.timezone or self.settings.get("ARCHIVER_TIMEZONE")
        for url in self.source_urls:
            yield self.feed_request(url, source_url=url)

    def feed_request(self, url: str, *, source_url: str, **meta: Any) -> Request:
        """The request for a feed: conditional when the source's validators are known
        (RFC 9110 §13.1), so an unchanged feed costs a 304 and no parsing. A sitemap source
        is fetched whole: an unchanged index can name sitemaps that changed, and what costs is
        its pages, which are skipped when unchanged. A source that moved for good is fetched
        where it moved (``SourceConfig.fetch_url``)."""
        headers = {}
        config = self.source_configs.get(source_url)
        if config is not None and url == source_url and config.kind != "sitemap":
            if config.etag:
                headers["If-None-Match"] = config.etag
            if config.last_modified:
                headers["If-Modified-Since"] = config.last_modified
        if config is not None and url == source_url and config.fetch_url:
            url = config.fetch_url
        return Request(
            resolve_route(url, self.rsshub_instance) if is_route(url) else url,
            callback=self.parse,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta={"source_url": source_url, "handle_httpstatus_list": [304, 429], **meta},
        )

    async def parse(
        self, response: Response, **kwargs: Any
    ) -> AsyncIterator[ArticleItem | Request]:
        """Read the source: a sitemap, a feed (an HTML page is searched for its feed link),
        else an article page.

        Parsing runs in a thread: a large feed takes a fraction of a second that the reactor
        spends on other downloads instead."""
        source_url: str = response.meta["source_url"]
        outcome = SourceOutcome(url=source_url)
        if response.url != source_url:
            outcome.final_url = response.url
        reasons = response.meta.get("redirect_reasons") or ()
        if reasons and all(r in (301, 308) for r in reasons) and not is_route(source_url):
            outcome.moved_to = response.url  # moved for good: fetched there from now on
        outcome.http_status = response.status
        outcome.etag = _header(response, "ETag")
        outcome.last_modified = _header(response, "Last-Modified")
        outcome.max_age = parse_cache_control(_header(response, "Cache-Control"))
        if response.status == 304:
            outcome.status = "not_modified"
            self.report(outcome)
            return
        if response.status == 429:
            outcome.status = "failed"
            outcome.retry_after = parse_retry_after(_header(response, "Retry-After"))
            outcome.error = f"HTTP 429 (too many requests) from {response.url}"
            outcome.etag = outcome.last_modified = None
            self.report(outcome)
            return
        fetched_at = datetime.now(UTC)
        sitemap = await self.read_sitemap(response, outcome, root=True)
        if sitemap is not None:
            crawl = SitemapCrawl(source_url, outcome)
            self.sitemap_crawls[source_url] = crawl
            crawl.sitemaps.add(response.url)
            for request in self.follow_sitemap(crawl, sitemap, response.url, depth=0):
                yield request
            return
        if outcome.status == "failed":  # a gzip body that could not be read
            self.report(outcome)
            return
        # The address the feed is read at, without an RSSHub instance's access key: it is
        # the base of the articles' relative links, and kept with them.
        feed_url = without_secrets(response.url, self.rsshub_instance)
        try:
            feed = await asyncio.to_thread(
                parse_feed,
                response.body,
                feed_url,
                content_type=_header(response, "Content-Type"),
                fetched_at=fetched_at,
            )
        except FeedParseError as exc:
            discovered = announced_feeds(response.body, response.url)
            if discovered and not response.meta.get("discovered_from"):
                for link in discovered[: self.MAX_DISCOVERED_FEEDS]:
                    logger.info("%s is a page; following its feed %s", source_url, link)
                    yield self.feed_request(
                        link, source_url=source_url, discovered_from=response.url
                    )
                return
            if self.may_be_page(response):
                async for item in self.archive_page(response, outcome, fetched_at, exc):
                    yield item
                return
            outcome.status = "failed"
            outcome.error = str(exc)
            self.report(outcome)
            return
        outcome.kind = "rsshub" if is_route(source_url) else feed.kind
        outcome.ttl_minutes = feed.ttl
        outcome.title = feed.title
        outcome.link = feed.link
        outcome.entries = len(feed.entries)
        outcome.pending_items = len(feed.entries)
        if feed.errors:
            outcome.status = "partial"
            outcome.error = "; ".join(feed.errors)
            logger.warning("%s is not a well-formed feed: %s", source_url, outcome.error)
        self.report(outcome)
        for item in self.entries(feed, source_url, feed_url):
            yield item

    def entries(self, feed: ParsedFeed, source_url: str, feed_url: str) -> Iterator[ArticleItem]:
        """The feed's entries, ready for the pipelines: the source's settings attached, and
        relative URLs in their content resolving against the feed's URL (unless xml:base
        said otherwise)."""
        for item in feed.entries:
            item.base_url = item.base_url or feed_url
            yield self.attach_source(item, source_url)

    # -- article pages ----------------------------------------------------------------------

    def may_be_page(self, response: Response) -> bool:
        """Whether a document that is not a feed may be read as an article page: not when it
        answers a feed's discovered link, when the source is known to be a feed, or when it
        is served as a feed (HTML in a feed's clothes is a broken feed)."""
        if response.meta.get("discovered_from"):
            return False
        config = self.source_configs.get(response.meta["source_url"])
        if config is not None and config.kind in FEED_KINDS:
            return False
        media_type = (_header(response, "Content-Type") or "").split(";")[0].strip().lower()
        return media_type not in NOT_PAGE_TYPES

    async def archive_page(
        self,
        response: Response,
        outcome: SourceOutcome,
        fetched_at: datetime,
        feed_error: FeedParseError,
    ) -> AsyncIterator[ArticleItem]:
        """The source is one article page: archive it (source kind ``page``)."""
        outcome.kind = "page"
        try:
            item = await self.read_page(response, fetched_at)
        except PageParseError as exc:
            outcome.status = "failed"
            outcome.error = f"{feed_error}; nor an article page ({exc})"
            self.report(outcome)
            return
        outcome.title = item.title_raw
        outcome.entries = outcome.pending_items = 1
        if item.parse_errors:
            outcome.status = "partial"
            outcome.error = "; ".join(item.parse_errors)
        self.report(outcome)
        yield self.attach_source(item, outcome.url)

    async def read_page(self, response: Response, fetched_at: datetime) -> ArticleItem:
        """The page as a raw article; its URL is where redirects led."""
        return await asyncio.to_thread(
            parse_article_page,
            response.body,
            response.url,
            content_type=_header(response, "Content-Type"),
            fetched_at=fetched_at,
        )

    def attach_source(self, item: ArticleItem, source_url: str) -> ArticleItem:
        """The source's settings on an item: its URL, categories and time zone."""
        config = self.source_configs.get(source_url)
        item.source_url = source_url
        item.source_categories = list(config.categories) if config else list(self.categories or [])
        item.source_timezone = config.timezone if config else self.timezone
        return item

    # -- sitemaps ----------------------------------------------------------------------------

    async def read_sitemap(
        self, response: Response, outcome: SourceOutcome, *, root: bool
    ) -> ParsedSitemap | None:
        """The response as a sitemap (gzip or not; also a root ``robots.txt`` naming
        sitemaps), or None when it is not one. Detection is by the root element, not the
        URL. A gzip body that cannot be unzipped fails *outcome*. Unzipped and read in a
        thread, off the reactor."""
        robots = root and urlsplit(response.url).path.endswith("/robots.txt")
        try:
            return await asyncio.to_thread(
                read_sitemap,
                response.body,
                response.url,
                max_size=self.max_sitemap_bytes,
                robots=robots,
            )
        except FeedParseError as exc:
            outcome.status, outcome.error = "failed", str(exc)
            return None

    def follow_sitemap(
        self, crawl: SitemapCrawl, sitemap: ParsedSitemap, url: str, *, depth: int
    ) -> Iterator[Request]:
        """An index's sitemaps are requested (newest first, within the bound); a urlset's
        pages are collected. When no sitemap of the source is left to read, its pages are."""
        crawl.outcome.kind = "sitemap"
        crawl.errors.extend(f"{url}: {error}" for error in sitemap.errors)
        if sitemap.kind == "urlset":
            for entry in sitemap.entries:
                if not self.may_follow(entry.url, crawl.source_url):
                    continue
                key = canonicalize_url(entry.url, tracking_params=self.tracking_params)
                if key is None:
                    continue
                known = crawl.entries.get(key)
                crawl.entries[key] = merged(known, entry) if known else entry
        elif depth >= MAX_SITEMAP_DEPTH:
            crawl.errors.append(f"{url}: sitemap indexes nested too deep; not followed")
        else:
            for entry in newest_first(sitemap.entries):
                if entry.url in crawl.sitemaps or not self.may_follow(entry.url, crawl.source_url):
                    continue
                if crawl.sitemaps_followed >= self.max_sitemaps:
                    crawl.errors.append(
                        f"more than {self.max_sitemaps} sitemaps; the oldest were not read"
                    )
                    break
                crawl.sitemaps.add(entry.url)
                crawl.sitemaps_followed += 1
                crawl.pending_sitemaps += 1
                yield Request(
                    entry.url,
                    callback=self.parse_sitemap,
                    errback=self.sitemap_failed,
                    dont_filter=True,
                    meta={"source_url": crawl.source_url, "sitemap_depth": depth + 1},
                )
        if crawl.pending_sitemaps == 0:
            yield from self.request_pages(crawl)

    def may_follow(self, url: str, source_url: str) -> bool:
        """http(s) links only; ``file:`` ones only from a sitemap read from disk."""
        scheme = urlsplit(url).scheme.lower()
        return scheme in ("http", "https") or (
            scheme == "file" and urlsplit(source_url).scheme.lower() == "file"
        )

    async def parse_sitemap(self, response: Response, **kwargs: Any) -> AsyncIterator[Request]:
        """A sitemap named by the source's index (or robots.txt)."""
        crawl = self.sitemap_crawls[response.meta["source_url"]]
        crawl.pending_sitemaps -= 1
        problem = SourceOutcome(url=response.url)
        sitemap = await self.read_sitemap(response, problem, root=False)
        if sitemap is None:
            crawl.errors.append(f"{response.url}: {problem.error or 'not a sitemap'}")
            sitemap = ParsedSitemap(kind="urlset")
        for request in self.follow_sitemap(
            crawl, sitemap, response.url, depth=response.meta["sitemap_depth"]
        ):
            yield request

    def sitemap_failed(self, failure: Failure) -> Iterator[Request]:
        """A sitemap of the source could not be fetched: recorded; the others go on."""
        request = failure.request  # type: ignore[attr-defined]
        crawl = self.sitemap_crawls[request.meta["source_url"]]
        crawl.pending_sitemaps -= 1
        crawl.errors.append(describe_failure(failure))
        logger.warning("Cannot fetch sitemap %s: %s", request.url, crawl.errors[-1])
        if crawl.pending_sitemaps == 0:
            yield from self.request_pages(crawl)

    def request_pages(self, crawl: SitemapCrawl) -> Iterator[Request]:
        """The source's pages, newest first: those archived and unchanged since (the
        sitemap's date no newer than the archived copy, or no date at all) cost no request;
        at most ``ARCHIVER_SITEMAP_MAX_PAGES`` of the rest are fetched."""
        if crawl.pages_requested:
            return
        crawl.pages_requested = True
        config = self.source_configs.get(crawl.source_url)
        archived = config.archived_pages if config else {}
        chosen: list[SitemapEntry] = []
        for key, entry in sorted(crawl.entries.items(), key=lambda pair: newest_first_key(pair[1])):
            last_fetched = archived.get(key)
            if last_fetched is not None and (entry.date is None or entry.date <= last_fetched):
                crawl.unchanged += 1
            elif len(chosen) < self.max_pages:
                chosen.append(entry)
            else:
                crawl.left_out += 1
        stats = self.crawler.stats
        stats.inc_value("archiver/pages/unchanged", crawl.unchanged)
        stats.inc_value("archiver/pages/left_out", crawl.left_out)
        if crawl.left_out:
            logger.info(
                "%s lists %d more pages than ARCHIVER_SITEMAP_MAX_PAGES (%d): left for later",
                crawl.source_url,
                crawl.left_out,
                self.max_pages,
            )
        if not chosen:
            self.finish_sitemap(crawl)
            return
        crawl.pending_pages = len(chosen)
        # Until its pages are in, the source stands as interrupted; finish_sitemap replaces it.
        interim = SourceOutcome(url=crawl.source_url, kind="sitemap", status="partial")
        interim.error = "interrupted before its pages were fetched"
        interim.final = False
        self.crawler.signals.send_catch_log(source_fetched, outcome=interim, spider=self)
        yield from self.page_requests(crawl, chosen)

    def page_requests(self, crawl: SitemapCrawl, chosen: list[SitemapEntry]) -> Iterator[Request]:
        """The requests for a sitemap source's chosen pages, newest first. Each is settled
        through ``page_settled`` (archived, failed) so the source is reported after its last."""
        for position, entry in enumerate(chosen):
            yield Request(
                entry.url,
                callback=self.parse_page,
                errback=self.page_failed,
                dont_filter=True,
                priority=-position,  # newest first, whatever the scheduler's queue order
                meta={"source_url": crawl.source_url, "sitemap_entry": entry},
            )

    async def parse_page(self, response: Response, **kwargs: Any) -> AsyncIterator[ArticleItem]:
        """A page a sitemap listed: one article (source kind ``sitemap``)."""
        source_url: str = response.meta["source_url"]
        entry: SitemapEntry = response.meta["sitemap_entry"]
        try:
            item = await self.read_page(response, datetime.now(UTC))
        except PageParseError as exc:
            self.page_settled(response.meta, failure=f"{response.url}: {exc}")
            return
        item.source_kind = "sitemap"
        # What the page leaves out, a news sitemap may say.
        item.title_raw = item.title_raw or entry.news_title
        item.published_raw = item.published_raw or entry.news_published_raw
        item.updated_raw = item.updated_raw or entry.lastmod_raw
        item.categories_raw = item.categories_raw or list(entry.news_keywords)
        # The images an image sitemap names for the page are the page's, archived as media.
        named = {media.url for media in item.media}
        item.media += [MediaRef(url, "image:image") for url in entry.images if url not in named]
        self.page_settled(response.meta, archived=True)
        yield self.attach_source(item, source_url)

    def page_settled(
        self, meta: dict[str, Any], *, archived: bool = False, failure: str | None = None
    ) -> None:
        """One page of a sitemap source is settled (archived, failed, or neither); the last
        one reports the source. *meta* is the page request's."""
        crawl = self.sitemap_crawls[meta["source_url"]]
        if archived:
            crawl.archived += 1
        if failure is not None:
            crawl.failures.append(failure)
            self.crawler.stats.inc_value("archiver/pages/failed")
        crawl.pending_pages -= 1
        if crawl.pending_pages == 0:
            # The archived page's item comes after the report: one item still to store.
            self.finish_sitemap(crawl, pending_items=int(archived))

    def page_failed(self, failure: Failure) -> None:
        """A page could not be fetched: counted as a failed entry of its sitemap source."""
        request = failure.request  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        logger.warning("Cannot fetch page %s: %s", request.url, reason)
        self.page_settled(request.meta, failure=reason)

    def finish_sitemap(self, crawl: SitemapCrawl, *, pending_items: int = 0) -> None:
        """Report the sitemap source: ``ok``; ``partial`` when a sitemap or some pages
        failed; ``failed`` when no page could be archived of those tried, or the sitemaps
        listed nothing because they all failed."""
        outcome = crawl.outcome
        outcome.kind = "sitemap"
        outcome.entries = crawl.archived
        tried = crawl.archived + len(crawl.failures)
        problems = list(crawl.errors)
        if crawl.failures:
            named = "; ".join(crawl.failures[:MAX_REPORTED_FAILURES])
            more = len(crawl.failures) - MAX_REPORTED_FAILURES
            problems.append(
                f"{len(crawl.failures)} of {tried} pages failed: {named}"
                + (f"; and {more} more" if more > 0 else "")
            )
        nothing_listed = not crawl.entries and bool(crawl.errors) and crawl.sitemaps_followed > 0
        if (tried and not crawl.archived) or nothing_listed:
            outcome.status = "failed"
        elif problems:
            outcome.status = "partial"
        outcome.error = "; ".join(problems) or None
        if crawl.unchanged:
            outcome.warnings.append(f"{crawl.unchanged} pages unchanged since archived")
        if crawl.left_out:
            outcome.warnings.append(f"{crawl.left_out} pages left for later crawls")
        outcome.pending_items = pending_items
        self.report(outcome)

    # -- feeds -------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        """A source that could not be fetched at all: recorded, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        outcome = SourceOutcome(url=request.meta["source_url"], status="failed")
        outcome.error = describe_failure(failure)
        response = getattr(failure.value, "response", None)
        if response is not None:
            outcome.http_status = response.status
            outcome.retry_after = parse_retry_after(_header(response, "Retry-After"))
        self.report(outcome)
        shown = hide_secrets(request.url, self.rsshub_instance)
        logger.warning("Cannot fetch %s: %s", shown, outcome.error)

    def report(self, outcome: SourceOutcome) -> None:
        """Tell how a source went (what is kept and printed of it never shows an RSSHub
        instance's access key)."""
        if outcome.error:
            outcome.error = hide_secrets(outcome.error, self.rsshub_instance)
        if outcome.final_url:
            outcome.final_url = without_secrets(outcome.final_url, self.rsshub_instance)
        self.crawler.stats.inc_value(f"archiver/sources/{outcome.status}")
        self.crawler.signals.send_catch_log(source_fetched, outcome=outcome, spider=self)


def describe_failure(failure: Failure) -> str:
    """One line that says why a request failed: the HTTP status, or the network error."""
    from scrapy.spidermiddlewares.httperror import HttpError

    value = failure.value
    if isinstance(value, HttpError):
        response = value.response
        return f"HTTP {response.status} from {response.url}"
    text = str(value).strip() or type(value).__name__
    return f"{type(value).__name__}: {text}".splitlines()[0]


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None

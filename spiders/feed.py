"""The feed spider: feeds, sitemaps and article pages in, one raw ArticleItem per article out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from archiver.crawling.captures import CAPTURE_KEY
from archiver.crawling.failures import describe_failure
from archiver.crawling.outcomes import (
    fetch_failed_outcome,
    may_be_article_page,
    record_feed,
    record_page,
    response_outcome,
)
from archiver.crawling.responses import response_header
from archiver.crawling.signals import SourceOutcome
from archiver.crawling.sitemaps import SitemapCrawl
from archiver.errors import FeedParseError, PageParseError
from archiver.items import ArticleItem
from archiver.readers.feeds import ParsedFeed, parse_feed
from archiver.readers.pages import announced_feeds
from archiver.readers.rsshub import hide_secrets, is_route, resolve_route, without_secrets
from spiders.sitemaps import SitemapSourceSpider, capture_id_of

logger = logging.getLogger(__name__)


class FeedSpider(SitemapSourceSpider):
    """Fetch each source URL once, yield its articles raw, and report how each source went.

    What a URL is, is read from what it answers: a feed (its entries), an HTML page that
    announces a feed (that feed), a sitemap, sitemap index or robots.txt naming sitemaps (the
    pages they list, newest first, at most ``ARCHIVER_SITEMAP_MAX_PAGES``: see
    :class:`~spiders.sitemaps.SitemapSourceSpider`), else an article page (one article).
    Arguments (see :class:`~spiders.sources.SourceSpider`): ``url`` (one or more URLs, space
    or comma separated), ``category`` (comma separated, placed first on every article) and
    ``timezone`` (IANA zone for naive dates). They default to the ``ARCHIVER_CATEGORIES`` /
    ``ARCHIVER_TIMEZONE`` settings.
    """

    name = "feed"
    _readers: asyncio.Semaphore | None = None

    #: How many ``<link rel=alternate>`` feeds of an HTML page are followed.
    MAX_DISCOVERED_FEEDS = 1

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
            meta={
                "source_url": source_url,
                "handle_httpstatus_list": [304, 429],
                CAPTURE_KEY: "source",  # a feed, a sitemap or a page: archiver.crawling.captures
                **meta,
            },
        )

    async def parse(
        self, response: Response, **kwargs: Any
    ) -> AsyncIterator[ArticleItem | Request]:
        """Read the source: a sitemap, a feed (an HTML page is searched for its feed link),
        else an article page.

        Parsing runs in a thread: a large feed takes a fraction of a second that the reactor
        spends on other downloads instead."""
        source_url: str = response.meta["source_url"]
        outcome = response_outcome(
            source_url,
            response.url,
            response.status,
            lambda name: response_header(response, name),
            response.meta.get("redirect_reasons") or (),
        )
        outcome.waits = list(response.meta.get("archiver_waits") or [])
        if outcome.status != "ok":  # not modified, or too many requests: nothing to read
            self.report(outcome)
            return
        fetched_at = datetime.now(UTC)
        sitemap = await self.read_sitemap(response, outcome, root=True)
        if sitemap is not None:
            crawl = SitemapCrawl(source_url, outcome)
            self.sitemap_crawls[source_url] = crawl
            crawl.sitemaps.add(response.url)
            for request in self.follow_sitemap(
                crawl, sitemap, response.url, depth=0, capture_id=capture_id_of(response)
            ):
                yield request
            return
        if outcome.status == "failed":  # a gzip body that could not be read
            self.report(outcome)
            return
        # The address the feed is read at, without an RSSHub instance's access key: it is
        # the base of the articles' relative links, and kept with them.
        feed_url = without_secrets(response.url, self.rsshub_instance)
        async with self._reading():
            async for entry in self._read_feed(response, source_url, feed_url, outcome, fetched_at):
                yield entry

    def _reading(self) -> asyncio.Semaphore:
        """Held while a feed is read and its entries go into the pipelines, by at most
        ``ARCHIVER_FEEDS_READ_AT_ONCE`` feeds: the other feeds' responses wait, unread,
        instead of all their entries waiting at once in memory (20 feeds of 500 entries,
        fetched within a second, were 8,500 articles alive)."""
        if self._readers is None:
            self._readers = asyncio.Semaphore(
                max(1, self.settings.getint("ARCHIVER_FEEDS_READ_AT_ONCE"))
            )
        return self._readers

    async def _read_feed(
        self,
        response: Response,
        source_url: str,
        feed_url: str,
        outcome: SourceOutcome,
        fetched_at: datetime,
    ) -> AsyncIterator[ArticleItem | Request]:
        """A feed's response read: its entries, else the feed an HTML page announces, else
        the page as an article; the source's outcome reported."""
        try:
            feed = await asyncio.to_thread(
                parse_feed,
                response.body,
                feed_url,
                content_type=response_header(response, "Content-Type"),
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
        record_feed(outcome, feed)
        if feed.errors:
            logger.warning("%s is not a well-formed feed: %s", source_url, outcome.error)
        self.report(outcome)
        capture_id = capture_id_of(response)
        for item in self.entries(feed, source_url, feed_url, capture_id=capture_id):
            yield item

    def entries(
        self, feed: ParsedFeed, source_url: str, feed_url: str, *, capture_id: int | None = None
    ) -> Iterator[ArticleItem]:
        """The feed's entries, ready for the pipelines: the source's settings attached,
        relative URLs in their content resolving against the feed's URL (unless xml:base
        said otherwise), and the capture of the feed's response (*capture_id*) named."""
        for item in feed.entries:
            item.base_url = item.base_url or feed_url
            item.listing_capture_id = capture_id
            yield self.attach_source(item, source_url)

    # -- article pages -----------------------------------------------------------------------------

    def may_be_page(self, response: Response) -> bool:
        """Whether a document that is not a feed may be read as an article page: not when it
        answers a feed's discovered link, when the source is known to be a feed, or when it
        is served as a feed (HTML in a feed's clothes is a broken feed)."""
        config = self.source_configs.get(response.meta["source_url"])
        return may_be_article_page(
            response_header(response, "Content-Type"),
            known_kind=config.kind if config else None,
            discovered=bool(response.meta.get("discovered_from")),
        )

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
        record_page(outcome, item)
        self.report(outcome)
        yield self.attach_source(item, outcome.url)

    # -- sources that fail -------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        """A source that could not be fetched at all: recorded, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        response = getattr(failure.value, "response", None)
        outcome = fetch_failed_outcome(
            request.meta["source_url"],
            describe_failure(failure),
            response.status if response is not None else None,
            response_header(response, "Retry-After") if response is not None else None,
        )
        meta = response.meta if response is not None else request.meta
        outcome.waits = list(meta.get("archiver_waits") or [])
        self.report(outcome)
        shown = hide_secrets(request.url, self.rsshub_instance)
        logger.warning("Cannot fetch %s: %s", shown, outcome.error)

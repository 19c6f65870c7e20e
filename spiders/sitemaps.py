"""The sitemap sources of the feed spider: the sitemaps an index names, then the pages listed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from archiver.crawling.captures import CAPTURE_KEY, RECORD_KEY
from archiver.crawling.failures import describe_failure
from archiver.crawling.signals import SourceOutcome, source_fetched
from archiver.crawling.sitemaps import SitemapCrawl, fill_from_sitemap
from archiver.errors import FeedParseError, PageParseError
from archiver.items import ArticleItem
from archiver.normalize.urls import tracking_params
from archiver.readers.sitemaps import ParsedSitemap, SitemapEntry, read_sitemap
from spiders.sources import SourceSpider

logger = logging.getLogger(__name__)


class SitemapSourceSpider(SourceSpider):
    """The part of the feed spider that fetches sitemap sources; their bookkeeping is a
    :class:`~archiver.crawling.sitemaps.SitemapCrawl` per source.

    A source found to be a sitemap (``read_sitemap``) starts with ``follow_sitemap``: an
    index's sitemaps are fetched (within ``ARCHIVER_SITEMAP_MAX_SITEMAPS``), then the pages
    listed, newest first, at most ``ARCHIVER_SITEMAP_MAX_PAGES``, each settled (archived or
    failed) until the last reports the source. Not a spider of its own: it has no name.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sitemap_crawls: dict[str, SitemapCrawl] = {}
        self.max_pages = 1000
        self.max_sitemaps = 50
        self.max_sitemap_bytes = 0
        self.tracking_params: tuple[str, ...] = tracking_params()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.max_pages = settings.getint("ARCHIVER_SITEMAP_MAX_PAGES", 1000)
        spider.max_sitemaps = settings.getint("ARCHIVER_SITEMAP_MAX_SITEMAPS", 50)
        spider.max_sitemap_bytes = settings.getint("DOWNLOAD_MAXSIZE", 0)
        spider.tracking_params = tracking_params(settings.getlist("ARCHIVER_TRACKING_PARAMS"))
        return spider

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
        self,
        crawl: SitemapCrawl,
        sitemap: ParsedSitemap,
        url: str,
        *,
        depth: int,
        capture_id: int | None = None,
    ) -> Iterator[Request]:
        """An index's sitemaps are requested (newest first, within the bound); a urlset's
        pages are collected, with the capture of the response they were read from
        (*capture_id*). When no sitemap of the source is left to read, its pages are."""
        # Every sitemap counted pending before the first is yielded: between two yields a
        # sibling's failure may run, and must not find the source's sitemaps all read.
        sitemap_urls = list(
            crawl.follow(
                sitemap,
                url,
                depth=depth,
                max_sitemaps=self.max_sitemaps,
                tracking_params=self.tracking_params,
                capture_id=capture_id,
            )
        )
        for sitemap_url in sitemap_urls:
            yield Request(
                sitemap_url,
                callback=self.parse_sitemap,
                errback=self.sitemap_failed,
                dont_filter=True,
                meta={
                    "source_url": crawl.source_url,
                    "sitemap_depth": depth + 1,
                    CAPTURE_KEY: "sitemap",
                },
            )
        if crawl.pending_sitemaps == 0:
            yield from self.request_pages(crawl)

    async def parse_sitemap(self, response: Response, **kwargs: Any) -> AsyncIterator[Request]:
        """A sitemap named by the source's index (or robots.txt)."""
        crawl = self.sitemap_crawls[response.meta["source_url"]]
        problem = SourceOutcome(url=response.url)
        sitemap = await self.read_sitemap(response, problem, root=False)
        # Read only now (it is read in a thread): a sibling that fails meanwhile must still
        # find this one pending, or the source's pages would be requested without its own.
        crawl.sitemap_read()
        if sitemap is None:
            crawl.errors.append(f"{response.url}: {problem.error or 'not a sitemap'}")
            sitemap = ParsedSitemap(kind="urlset")
        for request in self.follow_sitemap(
            crawl,
            sitemap,
            response.url,
            depth=response.meta["sitemap_depth"],
            capture_id=capture_id_of(response),
        ):
            yield request

    def sitemap_failed(self, failure: Failure) -> Iterator[Request]:
        """A sitemap of the source could not be fetched: recorded; the others go on."""
        request = failure.request  # type: ignore[attr-defined]
        crawl = self.sitemap_crawls[request.meta["source_url"]]
        crawl.sitemap_read(describe_failure(failure))
        logger.warning("Cannot fetch sitemap %s: %s", request.url, crawl.errors[-1])
        if crawl.pending_sitemaps == 0:
            yield from self.request_pages(crawl)

    def request_pages(self, crawl: SitemapCrawl) -> Iterator[Request]:
        """The source's pages, newest first: those archived and unchanged since cost no
        request; at most ``ARCHIVER_SITEMAP_MAX_PAGES`` of the rest are fetched
        (:meth:`SitemapCrawl.choose_pages`)."""
        if crawl.pages_requested:
            return
        crawl.pages_requested = True
        config = self.source_configs.get(crawl.source_url)
        chosen = crawl.choose_pages(config.archived_pages if config else {}, self.max_pages)
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
        # Until its pages are in, the source stands as interrupted; finish_sitemap replaces it.
        interim = crawl.interim_outcome()
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
                meta={
                    "source_url": crawl.source_url,
                    "sitemap_entry": entry,
                    CAPTURE_KEY: "page",
                    LISTING_KEY: crawl.listed_in.get(entry.url),
                },
            )

    async def parse_page(self, response: Response, **kwargs: Any) -> AsyncIterator[ArticleItem]:
        """A page a sitemap listed: one article (source kind ``sitemap``)."""
        source_url: str = response.meta["source_url"]
        try:
            item = await self.read_page(response, datetime.now(UTC))
        except PageParseError as exc:
            self.page_settled(response.meta, failure=f"{response.url}: {exc}")
            return
        item.source_kind = "sitemap"
        item.listing_capture_id = response.meta.get(LISTING_KEY)
        fill_from_sitemap(item, response.meta["sitemap_entry"])
        self.page_settled(response.meta, archived=True)
        yield self.attach_source(item, source_url)

    def page_settled(
        self, meta: dict[str, Any], *, archived: bool = False, failure: str | None = None
    ) -> None:
        """One page of a sitemap source is settled (archived, failed, or neither); the last
        one reports the source. *meta* is the page request's."""
        crawl = self.sitemap_crawls[meta["source_url"]]
        if failure is not None:
            self.crawler.stats.inc_value("archiver/pages/failed")
        if crawl.settle_page(archived=archived, failure=failure):
            # The archived page's item comes after the report: one item still to store.
            self.finish_sitemap(crawl, pending_items=int(archived))

    def page_failed(self, failure: Failure) -> None:
        """A page could not be fetched: counted as a failed entry of its sitemap source."""
        request = failure.request  # type: ignore[attr-defined]
        reason = describe_failure(failure)
        logger.warning("Cannot fetch page %s: %s", request.url, reason)
        self.page_settled(request.meta, failure=reason)

    def finish_sitemap(self, crawl: SitemapCrawl, *, pending_items: int = 0) -> None:
        """Report the sitemap source, its outcome written by :meth:`SitemapCrawl.finish`."""
        self.report(crawl.finish(pending_items=pending_items))


LISTING_KEY = "archiver_listing_capture"
"""Request meta key of a sitemap's page: the capture of the sitemap that listed it."""


def capture_id_of(response: Response) -> int | None:
    """The capture index row of *response*, when it was captured and indexed."""
    record = response.meta.get(RECORD_KEY)
    return record.capture_id if record is not None else None

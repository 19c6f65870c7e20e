"""The feed spider as ``archiver worker`` runs it: fed by a shared queue, on many machines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from archiver.crawling.runner import SourceConfig
from archiver.crawling.signals import SourceOutcome
from archiver.crawling.sitemaps import SitemapCrawl
from archiver.items import ArticleItem
from archiver.readers.sitemaps import SitemapEntry
from spiders.feed import FeedSpider


class WorkerSpider(FeedSpider):
    """``FeedSpider`` whose requests any worker may fetch, from scrapy-redis's shared queue.

    It has no start requests: ``archiver.crawling.workers.SourceClaimer`` leases due sources and
    hands them to ``source_request``. A request may be fetched by another process than the
    one that made it, so it carries what its callback needs, serializable (scrapy-redis
    pickles ``Request.to_dict``: callbacks are this spider's methods, meta holds plain
    values and the archiver's dataclasses): its source's settings as ``source_config`` (a
    dict) and the lease as ``lease_owner``. A sitemap source's sitemaps stay in the process
    that read its root (``meta["archiver_local"]``; their bookkeeping lives there); its
    pages go to the shared queue, through the shared duplicate filter, and are counted in
    Redis (``archiver.crawling.workers.SharedSitemapPages``) so the worker that settles the last one
    reports the source.
    """

    name = "feed-worker"
    URLS_REQUIRED = False

    shared_pages: Any = None
    """An ``archiver.crawling.workers.SharedSitemapPages`` (set by ``from_crawler``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        from archiver.crawling.workers import RedisKeys, SharedSitemapPages, connect_redis

        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        server = connect_redis(settings.get("ARCHIVER_REDIS_URL"))
        spider.shared_pages = SharedSitemapPages(
            server,
            RedisKeys(settings.get("ARCHIVER_REDIS_PREFIX")),
            ttl=settings.getint("ARCHIVER_LEASE_SECONDS"),  # its keys expire with the lease
        )
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        return spider

    # -- what requests carry -----------------------------------------------------------------

    def source_request(self, config: SourceConfig) -> Request:
        """The first request of a leased source (conditional with its validators)."""
        self.source_configs[config.url] = config
        request = self.feed_request(config.url, source_url=config.url)
        if config.kind == "sitemap":
            from archiver.crawling.workers import LOCAL_META_KEY

            # Its archived pages are known here only; its sitemaps will be read here too.
            request.meta[LOCAL_META_KEY] = True
        return request

    def feed_request(self, url: str, *, source_url: str, **meta: Any) -> Request:
        request = super().feed_request(url, source_url=source_url, **meta)
        request.meta.update(self.config_meta(source_url))
        return request

    def config_meta(self, source_url: str) -> dict[str, Any]:
        config = self.source_configs.get(source_url)
        if config is None:
            return {}
        return {
            "source_config": {
                "categories": list(config.categories),
                "timezone": config.timezone,
                "kind": config.kind,
            },
            "lease_owner": config.lease_owner,
        }

    def remember(self, meta: dict[str, Any]) -> None:
        """Take a request's source settings (made by another worker, maybe) as this
        spider's, keeping the archived pages of a source leased here."""
        shared = meta.get("source_config")
        if shared is None:
            return
        url = meta["source_url"]
        known = self.source_configs.get(url)
        self.source_configs[url] = SourceConfig(
            url=url,
            categories=tuple(shared["categories"]),
            timezone=shared["timezone"],
            kind=shared["kind"],
            lease_owner=meta.get("lease_owner"),
            archived_pages=known.archived_pages if known else {},
        )

    # -- callbacks: the source's settings first ------------------------------------------------

    async def parse(
        self, response: Response, **kwargs: Any
    ) -> AsyncIterator[ArticleItem | Request]:
        self.remember(response.meta)
        async for output in super().parse(response, **kwargs):
            yield output

    async def parse_page(self, response: Response, **kwargs: Any) -> AsyncIterator[ArticleItem]:
        self.remember(response.meta)
        async for item in super().parse_page(response, **kwargs):
            yield item

    def on_error(self, failure: Failure) -> None:
        self.remember(failure.request.meta)  # type: ignore[attr-defined]
        super().on_error(failure)

    def page_failed(self, failure: Failure) -> None:
        self.remember(failure.request.meta)  # type: ignore[attr-defined]
        super().page_failed(failure)

    def report(self, outcome: SourceOutcome) -> None:
        config = self.source_configs.get(outcome.url)
        outcome.lease_owner = config.lease_owner if config else None
        super().report(outcome)

    # -- sitemaps: sitemaps here, pages everywhere ---------------------------------------------

    def follow_sitemap(
        self,
        crawl: SitemapCrawl,
        sitemap: Any,
        url: str,
        *,
        depth: int,
        capture_id: int | None = None,
    ) -> Iterator[Request]:
        from archiver.crawling.workers import LOCAL_META_KEY

        for request in super().follow_sitemap(
            crawl, sitemap, url, depth=depth, capture_id=capture_id
        ):
            if request.callback == self.parse_sitemap:
                request.meta[LOCAL_META_KEY] = True
            yield request

    def page_requests(self, crawl: SitemapCrawl, chosen: list[SitemapEntry]) -> Iterator[Request]:
        token = self.shared_pages.start(crawl)
        self.sitemap_crawls.pop(crawl.source_url, None)  # settled in Redis from now on
        extra = {**self.config_meta(crawl.source_url), "sitemap_pages": token}
        for request in super().page_requests(crawl, chosen):
            # Through the shared duplicate filter: a page two sources list, or a round
            # queued twice, is fetched once.
            yield request.replace(dont_filter=False, meta={**request.meta, **extra})

    def page_settled(
        self, meta: dict[str, Any], *, archived: bool = False, failure: str | None = None
    ) -> None:
        token = meta.get("sitemap_pages")
        if token is None:
            super().page_settled(meta, archived=archived, failure=failure)
            return
        if failure is not None:
            self.crawler.stats.inc_value("archiver/pages/failed")
        crawl = self.shared_pages.settle(token, archived=archived, failure=failure)
        if crawl is not None:
            self.finish_sitemap(crawl, pending_items=int(archived))

    def request_dropped(self, request: Request, **kwargs: Any) -> None:
        """A page the shared duplicate filter dropped (fetched for another source or round
        moments ago) is settled as neither archived nor failed."""
        if "sitemap_pages" in request.meta:
            self.remember(request.meta)
            self.crawler.stats.inc_value("archiver/pages/duplicate")
            self.page_settled(request.meta)

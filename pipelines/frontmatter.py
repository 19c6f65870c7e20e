"""The front-matter pipeline: fills an article's normalized fields from its raw ones."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler

from archiver.items import ArticleItem
from archiver.normalize.article import normalize_article
from archiver.normalize.urls import tracking_params

logger = logging.getLogger(__name__)


class FrontMatterPipeline:
    """Normalize title, dates, authors, categories, URLs, head image, text and provenance.

    Raw fields are never touched. Nothing here raises on bad input: a date that cannot be
    read leaves ``published`` empty, keeps the raw string and counts in the crawl's stats
    (``archiver/dates/unparseable``).

    In a crawl (once opened) the work is done in a thread of its own, not on the reactor
    thread, which then goes on reading responses and moving other items meanwhile; one
    thread, so items leave in the order they came. Called outside a crawl (not opened),
    :meth:`process_item` normalizes at once.
    """

    def __init__(self, *, crawler: Crawler) -> None:
        self.crawler = crawler
        self.tracking_params = tracking_params(crawler.settings.getlist("ARCHIVER_TRACKING_PARAMS"))
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontMatterPipeline:
        return cls(crawler=crawler)

    def open_spider(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="frontmatter")

    def close_spider(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False)  # every item has been through it by now
            self._executor = None

    def process_item(self, item: Any) -> Any:
        """*item*, normalized (an awaitable of it in a crawl)."""
        if not isinstance(item, ArticleItem):
            return item
        if self._executor is None:
            self.normalize(item)
            return item
        return self._normalize_aside(item, self._executor)

    async def _normalize_aside(self, item: ArticleItem, executor: ThreadPoolExecutor) -> Any:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(executor, self.fill, item)
        self.count(item)  # the stats on the reactor thread, as every other count
        return item

    def normalize(self, item: ArticleItem) -> None:
        """Fill every normalized field of *item* from its raw fields (see
        :func:`~archiver.normalize.article.normalize_article`), counting odd dates."""
        self.fill(item)
        self.count(item)

    def fill(self, item: ArticleItem) -> None:
        """The normalization itself: pure, on *item* alone, safe in any thread."""
        normalize_article(item, tracking_params=self.tracking_params)

    def count(self, item: ArticleItem) -> None:
        for flag in item.date_flags:
            self.crawler.stats.inc_value(f"archiver/dates/{flag}")

"""The front-matter pipeline: fills an article's normalized fields from its raw ones."""

from __future__ import annotations

import logging
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
    """

    def __init__(self, *, crawler: Crawler) -> None:
        self.crawler = crawler
        self.tracking_params = tracking_params(crawler.settings.getlist("ARCHIVER_TRACKING_PARAMS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontMatterPipeline:
        return cls(crawler=crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            self.normalize(item)
        return item

    def normalize(self, item: ArticleItem) -> None:
        """Fill every normalized field of *item* from its raw fields (see
        :func:`~archiver.normalize.article.normalize_article`), counting odd dates."""
        normalize_article(item, tracking_params=self.tracking_params)
        for flag in item.date_flags:
            self.crawler.stats.inc_value(f"archiver/dates/{flag}")

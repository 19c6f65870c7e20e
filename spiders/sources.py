"""The base of the source spiders: their arguments, the sources' settings, and their reports."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Self

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response

from archiver.crawling.outcomes import hide_outcome_secrets
from archiver.crawling.responses import page_fetch, response_header
from archiver.crawling.runner import SourceConfig, check_source_url
from archiver.crawling.signals import SourceOutcome, source_fetched
from archiver.extract.engine import extract_article
from archiver.extract.rules import BUILTIN_RULES, SiteRule, site_rules, source_rule
from archiver.items import ArticleItem


def split_urls(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Spider arguments come as one string from ``-a url=...``; allow several, space or
    comma separated, and lists from code."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [u.strip() for u in value if u and u.strip()]


class SourceSpider(scrapy.Spider):
    """The base of the feed spider: the sources it is given, and what it tells of them.

    Arguments: ``url`` (one or more URLs, space or comma separated), ``category`` (comma
    separated, placed first on every article), ``timezone`` (IANA zone for naive dates),
    and from code ``sources`` (known sources, each with its own settings and validators).
    Not a spider of its own: it has no name, so Scrapy does not list it.
    """

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
        self.rsshub_instance: str | None = None
        """``ARCHIVER_RSSHUB_URL``: where sources given as RSSHub routes are fetched."""
        self.site_rules: list[SiteRule] = list(BUILTIN_RULES)
        """Where sites keep their articles (``ARCHIVER_SITE_RULES``, then the built-in)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.rsshub_instance = crawler.settings.get("ARCHIVER_RSSHUB_URL")
        spider.site_rules = site_rules(crawler.settings.get("ARCHIVER_SITE_RULES"))
        return spider

    async def read_page(self, response: Response, fetched_at: datetime) -> ArticleItem:
        """The page as a raw article, extracted as an entry's page is (a site rule, else
        trafilatura), off the reactor; its URL is where redirects led, its capture on
        ``item.page``."""
        config = self.source_configs.get(response.meta.get("source_url", ""))
        own = source_rule(
            response.url,
            config.content_selectors if config else (),
            config.remove_selectors if config else (),
        )
        item = await asyncio.to_thread(
            extract_article,
            response.body,
            response.url,
            content_type=response_header(response, "Content-Type"),
            fetched_at=fetched_at,
            rules=[own, *self.site_rules] if own else self.site_rules,
        )
        item.page = page_fetch(response, reason="page", attempted_at=fetched_at)
        return item

    def attach_source(self, item: ArticleItem, source_url: str) -> ArticleItem:
        """The source's settings on an item: its URL, categories and time zone."""
        config = self.source_configs.get(source_url)
        item.source_url = source_url
        item.source_categories = list(config.categories) if config else list(self.categories or [])
        item.source_timezone = config.timezone if config else self.timezone
        if config is not None:
            item.source_full_text = config.full_text
            item.source_content_selectors = list(config.content_selectors)
            item.source_remove_selectors = list(config.remove_selectors)
        return item

    def report(self, outcome: SourceOutcome) -> None:
        """Tell how a source went (what is kept and printed of it never shows an RSSHub
        instance's access key)."""
        hide_outcome_secrets(outcome, self.rsshub_instance)
        self.crawler.stats.inc_value(f"archiver/sources/{outcome.status}")
        self.crawler.signals.send_catch_log(source_fetched, outcome=outcome, spider=self)

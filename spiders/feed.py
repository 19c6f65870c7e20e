"""The feed spider: fetches RSS, Atom and JSON feeds and yields one ArticleItem per entry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from archiver.crawl import SourceConfig, check_source_url
from archiver.errors import FeedParseError
from archiver.feeds import ParsedFeed, parse_feed
from archiver.items import ArticleItem
from archiver.schedule import parse_cache_control, parse_retry_after
from archiver.signals import SourceOutcome, source_fetched

logger = logging.getLogger(__name__)

FEED_LINK_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "text/xml",
    "application/xml",
)


def split_urls(value: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Spider arguments come as one string from ``-a url=...``; allow several, space or
    comma separated, and lists from code."""
    if not value:
        return []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return [u.strip() for u in value if u and u.strip()]


class FeedSpider(scrapy.Spider):
    """Fetch each feed URL once, yield its entries raw, and report how each source went.

    Arguments: ``url`` (one or more URLs, space or comma separated), ``category``
    (comma separated, placed first on every article) and ``timezone`` (IANA zone for naive
    dates). They default to the ``ARCHIVER_CATEGORIES`` / ``ARCHIVER_TIMEZONE`` settings.
    """

    name = "feed"

    #: How many ``<link rel=alternate>`` feeds of an HTML page are followed.
    MAX_DISCOVERED_FEEDS = 1

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
        if not self.source_urls:
            raise ValueError("the feed spider needs at least one URL: -a url=https://...")
        self.categories = [c.strip() for c in split_urls(category)] if category else None
        self.timezone = timezone

    async def start(self) -> AsyncIterator[Request]:
        if self.categories is None:
            self.categories = self.settings.getlist("ARCHIVER_CATEGORIES")
        self.timezone = self.timezone or self.settings.get("ARCHIVER_TIMEZONE")
        for url in self.source_urls:
            yield self.feed_request(url, source_url=url)

    def feed_request(self, url: str, *, source_url: str, **meta: Any) -> Request:
        """The request for a feed: conditional when the source's validators are known
        (RFC 9110 §13.1), so an unchanged feed costs a 304 and no parsing."""
        headers = {}
        config = self.source_configs.get(source_url)
        if config is not None and url == source_url:
            if config.etag:
                headers["If-None-Match"] = config.etag
            if config.last_modified:
                headers["If-Modified-Since"] = config.last_modified
        return Request(
            url,
            callback=self.parse,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,
            meta={"source_url": source_url, "handle_httpstatus_list": [304, 429], **meta},
        )

    async def parse(
        self, response: Response, **kwargs: Any
    ) -> AsyncIterator[ArticleItem | Request]:
        """Read the feed and yield its entries; an HTML page is searched for its feed link.

        Parsing runs in a thread: a large feed takes a fraction of a second that the reactor
        spends on other downloads instead."""
        source_url: str = response.meta["source_url"]
        outcome = SourceOutcome(url=source_url)
        if response.url != source_url:
            outcome.final_url = response.url
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
        try:
            feed = await asyncio.to_thread(
                parse_feed,
                response.body,
                response.url,
                content_type=_header(response, "Content-Type"),
                fetched_at=fetched_at,
            )
        except FeedParseError as exc:
            discovered = self.discover_feeds(response)
            if discovered and not response.meta.get("discovered_from"):
                for link in discovered[: self.MAX_DISCOVERED_FEEDS]:
                    logger.info("%s is a page; following its feed %s", source_url, link)
                    yield self.feed_request(
                        link, source_url=source_url, discovered_from=response.url
                    )
                return
            outcome.status = "failed"
            outcome.error = str(exc)
            self.report(outcome)
            return
        outcome.kind = feed.kind
        outcome.ttl_minutes = feed.ttl
        outcome.title = feed.title
        outcome.link = feed.link
        outcome.entries = len(feed.entries)
        if feed.errors:
            outcome.status = "partial"
            outcome.error = "; ".join(feed.errors)
            logger.warning("%s is not a well-formed feed: %s", source_url, outcome.error)
        self.report(outcome)
        for item in self.entries(feed, source_url, response.url):
            yield item

    def entries(self, feed: ParsedFeed, source_url: str, feed_url: str) -> Iterator[ArticleItem]:
        """The feed's entries, ready for the pipelines: the source's settings attached, and
        relative URLs in their content resolving against the feed's URL (unless xml:base
        said otherwise)."""
        config = self.source_configs.get(source_url)
        categories = list(config.categories) if config else list(self.categories or [])
        timezone = config.timezone if config else self.timezone
        for item in feed.entries:
            item.base_url = item.base_url or feed_url
            item.source_url = source_url
            item.source_categories = categories
            item.source_timezone = timezone
            yield item

    def discover_feeds(self, response: Response) -> list[str]:
        """Feed URLs an HTML page announces with ``<link rel="alternate">``."""
        if not isinstance(response, TextResponse):
            return []
        try:
            links = response.xpath("//link[@href][contains(@rel, 'alternate')]")
        except ValueError:  # not markup at all
            return []
        found = []
        for link in links:
            media_type = (link.attrib.get("type") or "").split(";")[0].strip().lower()
            if media_type in FEED_LINK_TYPES:
                found.append(urljoin(response.url, link.attrib["href"]))
        return found

    def on_error(self, failure: Failure) -> None:
        """A source that could not be fetched at all: recorded, and the crawl goes on."""
        request = failure.request  # type: ignore[attr-defined]
        outcome = SourceOutcome(url=request.meta["source_url"], status="failed")
        outcome.error = describe_failure(failure)
        response = getattr(failure.value, "response", None)
        if response is not None:
            outcome.http_status = response.status
            outcome.retry_after = parse_retry_after(_header(response, "Retry-After"))
        logger.warning("Cannot fetch %s: %s", request.url, outcome.error)
        self.report(outcome)

    def report(self, outcome: SourceOutcome) -> None:
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

"""The pages pipeline: the whole article from its page, when the feed gives less.

Between the front-matter pipeline (which made the entry's identity and digest) and the
images pipeline (which then archives the images of the page's body too).
"""

from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler

from archiver.crawling.captures import CAPTURE_KEY
from archiver.crawling.responses import page_fetch, response_header
from archiver.errors import PageParseError
from archiver.extract.engine import extract_article
from archiver.extract.merge import head_image_provenance, merge_page
from archiver.extract.rules import SiteRule, site_rules, source_rule
from archiver.extract.shortfall import FullText, full_text_mode, page_wanted
from archiver.items import ArticleItem, PageFetch
from archiver.media.retries import RetryPolicy
from archiver.normalize.article import content_hash, normalize_fields
from archiver.processes import WorkerProcesses
from archiver.storage import Archive
from archiver.storage.records import PageState

logger = logging.getLogger(__name__)


class ArticlePagesPipeline:
    """Fetch the page of each entry whose feed falls short, extract it, merge it in.

    Which entries (``ARCHIVER_FULL_TEXT``, a source's own ``full_text``): ``auto`` those whose
    body is missing, short or cut off (:func:`~archiver.extract.shortfall.falls_short`),
    ``always`` all, ``never`` none. A page is fetched once per article: not again while its
    entry is unchanged (``ARCHIVER_REFRESH_PAGES`` asks again, conditionally), and one that
    failed not before its back-off (``ARCHIVER_PAGE_RETRY_DELAY``, doubling) is over. The
    fetch goes through the downloader like every request (robots.txt, AutoThrottle, per-host
    limits, the private-address guard); the response is kept as a WARC record; extraction
    runs in worker processes, started at the first page. A failure leaves the entry as the
    feed gave it, the reason on ``item.page``. Items of page sources (a page crawled itself,
    the pages of a sitemap) pass untouched: the spider extracted them already, the same way.
    """

    REMEMBERED_PAGES = 1024
    """Pages of this crawl kept for other entries naming them (oldest forgotten first)."""
    RETRY_DELAY = 3600.0
    RETRY_MAX_DELAY = 7 * 24 * 3600.0

    def __init__(self, *, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.mode: FullText = full_text_mode(settings.get("ARCHIVER_FULL_TEXT"))
        self.refresh = settings.getbool("ARCHIVER_REFRESH_PAGES")
        self.retry_policy = RetryPolicy(
            settings.getfloat("ARCHIVER_PAGE_RETRY_DELAY", self.RETRY_DELAY),
            settings.getfloat("ARCHIVER_PAGE_RETRY_MAX_DELAY", self.RETRY_MAX_DELAY),
        )
        self.rules = site_rules(settings.get("ARCHIVER_SITE_RULES"))
        processes = settings.getint("ARCHIVER_EXTRACT_PROCESSES", -1)
        self.processes = default_processes() if processes < 0 else processes
        self.archive: Archive | None = None
        self._executor: Executor | None = None
        self._merging: ThreadPoolExecutor | None = None
        """Merging and normalizing a page's article, off the reactor thread."""
        self._pages: dict[str, asyncio.Future[ArticleItem | PageFetch]] = {}
        """This crawl's pages by URL, in the order first asked for."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticlePagesPipeline:
        return cls(crawler=crawler)

    async def open_spider(self) -> None:
        url = self.crawler.settings.get("ARCHIVER_DATABASE_URL")
        self.archive = await asyncio.to_thread(Archive, url, migrate=False)
        self._merging = ThreadPoolExecutor(1, thread_name_prefix="merge")

    async def close_spider(self) -> None:
        if self._executor is not None:  # off the reactor: a running extraction may take a while
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        if self._merging is not None:
            self._merging.shutdown(wait=False)  # every item has been through it by now
        if self.archive is not None:
            await asyncio.to_thread(self.archive.close)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or item.source_kind in ("page", "sitemap"):
            return item
        reason = self.page_wanted(item)
        if reason is None:
            return item
        state = await self._state(item)
        if state is not None and not state.own:
            # Another feed's copy is the archived one; this entry's page would not be used.
            item.page = PageFetch(status="kept", reason=reason, url=state.url)
            return item
        if state is not None and state.entry_hash == item.entry_hash and not self.refresh:
            if state.status == "fetched":
                item.page = PageFetch(status="kept", reason=reason, url=state.url)
                return item
            if state.status == "failed" and not self._due(state):
                item.page = PageFetch(
                    status="deferred",
                    reason=reason,
                    error=state.error,
                    failures=state.failures,
                    attempted_at=state.attempted_at,
                )
                return item
        page = await self._page(item, state)
        if self._merging is None:
            outcome = self.merge(item, page, reason, state)
        else:
            outcome = await asyncio.get_running_loop().run_in_executor(
                self._merging, self.merge, item, page, reason, state
            )
        if outcome is not None:  # counted here, on the reactor thread, as every other count
            self.crawler.stats.inc_value(f"archiver/pages/{outcome}")
        return item

    def page_wanted(self, item: ArticleItem) -> str | None:
        """Why the page of *item* is to be fetched, or None: by its source's ``full_text``
        else the crawl's, and ``refresh`` for every page when ``ARCHIVER_REFRESH_PAGES``."""
        mode = full_text_mode(item.source_full_text, self.mode)
        if mode == "auto" and item.source_url.startswith("file:"):
            return None  # a feed read from disk is read offline, unless asked (always)
        reason = page_wanted(mode, item.content_html, item.url)
        if reason is None and self.refresh and mode != "never":
            return page_wanted("always", item.content_html, item.url) and "refresh"
        return reason

    def rules_for(self, item: ArticleItem) -> list[SiteRule]:
        """The site rules that apply to *item*'s page: its source's own first."""
        rule = source_rule(item.url, item.source_content_selectors, item.source_remove_selectors)
        return [rule, *self.rules] if rule is not None else self.rules

    def merge(
        self, item: ArticleItem, page: ArticleItem | PageFetch, reason: str, state: PageState | None
    ) -> str | None:
        """Merge an extracted *page* into *item* (or record why there is none) and make its
        front-matter again from the merged raw fields; its identity stays the entry's.
        Returns what to count (``merged``, ``failed``), None for a page kept as it was.

        In a crawl this runs in the pipeline's merge thread (it touches *item* alone), not
        on the reactor thread."""
        failures = (state.failures if state is not None and state.status == "failed" else 0) + 1
        if isinstance(page, PageFetch) and page.status == "kept":  # 304: as merged before
            item.page = replace(page, reason=reason)
            return None
        if isinstance(page, PageFetch):  # the fetch or the extraction failed
            item.page = replace(page, reason=reason, failures=failures)
            logger.info("page of %s not archived: %s", item.url, page.error)
            return "failed"
        fetched = page.page or PageFetch(status="fetched", reason=reason)
        rejected = merge_page(item, page)
        if rejected is not None:
            item.page = replace(
                fetched, status="failed", reason=reason, error=rejected, failures=failures
            )
            logger.info("page of %s not used: %s", item.url, rejected)
            return "failed"
        item.page = replace(fetched, reason=reason, failures=0)
        normalize_fields(item)
        if (origin := head_image_provenance(item)) is not None:
            item.provenance["headimg"] = origin
        item.content_hash = content_hash(item)
        return "merged"

    async def _state(self, item: ArticleItem) -> PageState | None:
        assert self.archive is not None
        return await asyncio.to_thread(
            self.archive.pages.state, item.source_url, item.key or item.url, item.canonical_url
        )

    def _due(self, state: PageState) -> bool:
        if state.attempted_at is None:
            return True
        return datetime.now(UTC) >= self.retry_policy.retry_after(
            state.failures, state.attempted_at
        )

    async def _page(self, item: ArticleItem, state: PageState | None) -> ArticleItem | PageFetch:
        """The page of *item*, extracted, or why not; fetched once per crawl whatever number
        of entries (of several feeds) name it."""
        known = self._pages.get(item.url)
        if known is None:
            known = asyncio.ensure_future(self._fetch_and_extract(item, state))
            self._pages[item.url] = known
            while len(self._pages) > self.REMEMBERED_PAGES:  # a worker runs for days
                del self._pages[next(iter(self._pages))]
        return await asyncio.shield(known)

    async def _fetch_and_extract(
        self, item: ArticleItem, state: PageState | None
    ) -> ArticleItem | PageFetch:
        attempted = datetime.now(UTC)
        headers = {}
        # Conditional only for the same entry (--refresh-pages): a 304 then keeps what was
        # merged before. A changed entry is merged with the page again, so it takes it whole.
        if (
            state is not None
            and state.status == "fetched"
            and state.url == item.url
            and state.entry_hash == item.entry_hash
        ):
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        request = Request(
            item.url,
            headers=headers,
            meta={"source_url": item.source_url, CAPTURE_KEY: "page"},
            dont_filter=True,
        )
        self.crawler.stats.inc_value("archiver/pages/requested")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as error:  # IgnoreRequest (robots.txt, the guard), DNS, timeouts
            return PageFetch("failed", "", error=_describe(error), attempted_at=attempted)
        if response.status == 304:
            return PageFetch(
                "kept", "", url=state.url if state else item.url, attempted_at=attempted
            )
        fetch = page_fetch(response, reason="", attempted_at=attempted)
        if response.status >= 400:
            return replace(fetch, status="failed", error=f"HTTP {response.status}")
        if self._executor is None:  # at the first page: a crawl of whole feeds starts none
            self._executor = (
                WorkerProcesses(self.processes)
                if self.processes > 0
                else ThreadPoolExecutor(1, thread_name_prefix="extract")
            )
        job = partial(
            extract_article,
            response.body,
            response.url,
            content_type=response_header(response, "Content-Type"),
            fetched_at=attempted,
            rules=self.rules_for(item),
        )
        try:
            page = await asyncio.get_running_loop().run_in_executor(self._executor, job)
        except PageParseError as error:
            return replace(fetch, status="failed", error=str(error))
        page.page = fetch
        return page


def default_processes() -> int:
    """One extraction process per core but the one the crawl itself runs on."""
    return max(1, (os.cpu_count() or 2) - 1)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0][:500]

"""The store pipeline: archives articles in group commits and records the crawl run."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler

from archiver.crawling.policy import FetchHints
from archiver.crawling.signals import SourceOutcome, source_fetched
from archiver.errors import ArchiverError
from archiver.extract.rules import RULE_MISSED
from archiver.items import ArticleItem
from archiver.storage import Archive, SourceRecord
from pipelines.linking import GroupLinks

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorePipeline:
    """Write every article to the archive before the crawl moves on, off the reactor thread.

    Articles are committed in groups (``archive.articles.store_many``): an article waits
    until its group is committed, at ``ARCHIVER_STORE_BATCH`` articles or
    ``ARCHIVER_STORE_BATCH_SECONDS`` after the group's first, whichever comes first, and
    only then is it counted and passed on. So nothing is acknowledged before it is
    committed, and a crash loses at most the items in flight (those of the group being
    filled), which the next crawl fills in. A write that fails is logged and counted, never
    fatal; a group that fails is written again one article at a time, so one bad article
    costs only itself. A committed group's new and changed articles are then linked with
    their copies (:class:`~pipelines.linking.GroupLinks`). At the end, one
    ``crawl_runs`` row records the run with per-source outcomes; its id is in the crawl's
    stats as ``archiver/run_id``.
    """

    BATCH, BATCH_SECONDS = 100, 0.5  # articles and seconds of a group, by default

    def __init__(self, *, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.batch_size = max(1, settings.getint("ARCHIVER_STORE_BATCH", self.BATCH))
        self.batch_seconds = settings.getfloat("ARCHIVER_STORE_BATCH_SECONDS", self.BATCH_SECONDS)
        self.links = GroupLinks(crawler)
        self._group: list[tuple[tuple[ArticleItem, int, str], asyncio.Future[Any]]] = []
        self._group_timer: asyncio.TimerHandle | None = None
        self._commits: set[asyncio.Future[None]] = set()
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.counts: Counter[str] = Counter()
        self.per_source: dict[str, Counter[str]] = {}
        self.rule_misses: dict[str, set[str]] = {}
        """Per source: the site rules that matched nothing on its pages, as said."""
        self.outcomes: dict[str, SourceOutcome] = {}
        self._sources: dict[str, SourceRecord] = {}
        self._source_locks: dict[str, asyncio.Lock] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._files: set[str | None] = set()
        crawler.signals.connect(self.source_fetched, signal=source_fetched)
        # The run is recorded on spider_closed, which (unlike close_spider) knows the reason.
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler=crawler)

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking database work on the pipeline's writer threads."""
        loop = asyncio.get_running_loop()
        assert self._executor is not None
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    async def open_spider(self) -> None:
        await self._open_archive()
        self.run_id = await self._start_run()

    async def _open_archive(self) -> None:
        archive = await asyncio.to_thread(Archive.from_settings, self.crawler.settings)
        # SQLite has one writer at a time: one thread avoids lock waits between our own writes.
        workers = 1 if archive.engine.dialect.name == "sqlite" else 4
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="archiver-store")
        self.archive = archive
        self.links.open(archive, self._call)
        self.crawler.stats.set_value("archiver/database", archive.url)

    async def _start_run(self) -> int:
        """Open a ``crawl_runs`` row; its id goes in the stats as ``archiver/run_id``."""
        assert self.archive is not None
        command = self.crawler.settings.get("ARCHIVER_RUN_COMMAND", "crawl")
        run_id = await self._call(self.archive.runs.start, command)
        self.crawler.stats.set_value("archiver/run_id", run_id)
        return run_id

    def source_fetched(self, outcome: SourceOutcome) -> None:
        self.outcomes[outcome.url] = outcome
        self.per_source.setdefault(outcome.url, Counter())

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        assert self.archive is not None
        source_counts = self.per_source.setdefault(item.source_url, Counter())
        try:
            source = await self._source(item)
            result = await self._store(item, source.id, item.key or item.url)
            if isinstance(result, Exception):
                raise result
        except ArchiverError as exc:
            logger.error("Cannot archive %s: %s", item.url, exc)
            outcome = "failed"
        except Exception:  # a bug must cost one article, counted, never the crawl
            logger.exception("Cannot archive %s", item.url)
            outcome = "failed"
        else:
            outcome = result.outcome
        self.counts[outcome] += 1
        source_counts[outcome] += 1
        if item.page is not None:
            source_counts[f"pages_{item.page.status}"] += 1
            self.counts["pages"] += item.page.status == "fetched"
        for error in item.parse_errors:  # a site's redesign is seen, not silent
            if RULE_MISSED in error:
                self.rule_misses.setdefault(item.source_url, set()).add(
                    error.removeprefix("page: ")
                )
        self.crawler.stats.inc_value(f"archiver/articles/{outcome}")
        for image in item.images:  # new files this run, once each however often shown
            if image.status == "downloaded" and image.sha256 not in self._files:
                self._files.add(image.sha256)
                self.counts["images"] += 1
                self.counts["bytes"] += image.size or 0
        return item

    async def _store(self, item: ArticleItem, source_id: int, identity: str) -> Any:
        """Add *item* to the group being filled and wait until the group is committed: its
        ``StoreResult``, or the exception that storing it met."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._group.append(((item, source_id, identity), done))
        if len(self._group) >= self.batch_size:
            self._commit_group()
        elif self._group_timer is None:
            self._group_timer = loop.call_later(self.batch_seconds, self._commit_group)
        return await done

    def _commit_group(self) -> None:
        """Commit the group being filled, in the writer threads; a new group starts."""
        if self._group_timer is not None:
            self._group_timer.cancel()
            self._group_timer = None
        group, self._group = self._group, []
        if group:
            task = asyncio.ensure_future(self._write_group(group))
            self._commits.add(task)
            task.add_done_callback(self._commits.discard)

    async def _write_group(
        self, group: list[tuple[tuple[ArticleItem, int, str], asyncio.Future[Any]]]
    ) -> None:
        assert self.archive is not None
        results: list[Any]
        try:
            results = await self._call(self.archive.articles.store_many, [e for e, _ in group])
        except Exception as exc:  # store_many returns failures; this is the unforeseen
            results = [exc] * len(group)
        to_link = [
            result.article_id
            for result in results
            if not isinstance(result, Exception) and result.outcome != "unchanged"
        ]
        await self.links.after_commit(to_link, lambda: _acknowledge(group, results))

    async def _drain(self) -> None:
        """Commit what is waiting (the crawl is ending), and wait for every group."""
        self._commit_group()
        while self._commits:
            await asyncio.gather(*list(self._commits), return_exceptions=True)

    async def _source(self, item: ArticleItem) -> SourceRecord:
        """The source row for *item*, created on its first article."""
        url = item.source_url
        if url in self._sources:
            return self._sources[url]
        async with self._source_locks.setdefault(url, asyncio.Lock()):
            if url not in self._sources:
                assert self.archive is not None
                outcome = self.outcomes.get(url)
                self._sources[url] = await self._call(
                    self.archive.sources.ensure,
                    url,
                    kind=outcome.kind if outcome else item.source_kind,
                    categories=item.source_categories,
                    timezone=item.source_timezone,
                    title=outcome.title if outcome else item.feed_title,
                    link=outcome.link if outcome else item.feed_link,
                )
        return self._sources[url]

    async def spider_closed(self, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        try:
            await self._drain()
            await self._record_run(reason)
        finally:
            await self._close()

    async def _close(self) -> None:
        """Let go of the linking process, the writer threads and the archive, in that order
        (the archive's WAL is folded once no other connection holds it)."""
        assert self.archive is not None
        await self.links.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self.archive.close()

    async def _ensure_failed_source(self, outcome: SourceOutcome) -> SourceRecord:
        """The source row for a source that yielded no article (failed, empty, 304)."""
        assert self.archive is not None
        settings = self.crawler.settings
        return await self._call(
            self.archive.sources.ensure,
            outcome.url,
            kind=outcome.kind,
            categories=settings.getlist("ARCHIVER_CATEGORIES"),
            timezone=settings.get("ARCHIVER_TIMEZONE"),
            title=outcome.title,
            link=outcome.link,
        )

    async def _record_run(self, reason: str) -> None:
        assert self.run_id is not None
        sources: dict[str, Any] = {}
        for url, outcome in self.outcomes.items():
            sources[url] = await self._record_source(outcome)
        await self._finish_run(self.run_id, reason, sources, dict(self.counts))

    async def _record_source(self, outcome: SourceOutcome) -> dict[str, Any]:
        """Record how a source went (status, validators, next due time): its entry in the
        run's ``sources``."""
        assert self.archive is not None
        url = outcome.url
        counts = self.per_source.get(url, Counter())
        record = self._sources.get(url) or await self._ensure_failed_source(outcome)
        # 410 Gone: the publisher says the feed will not come back (RSS Best Practices).
        gone = outcome.http_status == 410
        if gone:
            outcome.error = (
                f"{outcome.error or 'HTTP 410'}; gone for good, so taken off the schedule "
                "(archiver sources add puts it back)"
            )
        await self._call(
            self.archive.sources.record_fetch,
            record.id,
            status=outcome.status,
            error=outcome.error,
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            new_entries=counts.get("new", 0),
            hints=FetchHints(
                ttl_minutes=outcome.ttl_minutes,
                max_age=outcome.max_age,
                retry_after=outcome.retry_after,
            ),
            gone=gone,
            moved_to=outcome.moved_to,
        )
        return {
            "name": record.name,
            "kind": outcome.kind,
            "status": outcome.status,
            "error": outcome.error,
            "entries": outcome.entries,
            **{key: counts.get(key, 0) for key in ("new", "updated", "unchanged", "failed")},
            "pages": {
                status: counts.get(f"pages_{status}", 0)
                for status in ("fetched", "failed", "kept", "deferred")
            },
            "rule_misses": sorted(self.rule_misses.get(url, ())),
            "waits": outcome.waits,
            "empty_entries": outcome.empty_entries,
        }

    async def _finish_run(
        self, run_id: int, reason: str, sources: dict[str, Any], counts: dict[str, int]
    ) -> None:
        """Close the ``crawl_runs`` row: ``interrupted`` unless the crawl finished, else
        ``ok``, ``partial`` (some sources failed) or ``failed`` (all of them)."""
        assert self.archive is not None
        failed_sources = [u for u, s in sources.items() if s["status"] == "failed"]
        totals = dict(counts)
        totals["not_modified"] = sum(1 for s in sources.values() if s["status"] == "not_modified")
        if reason != "finished":
            status = "interrupted"
        elif failed_sources and len(failed_sources) == len(sources):
            status = "failed"
        elif failed_sources:
            status = "partial"
        else:
            status = "ok"
        await self._call(
            self.archive.runs.finish,
            run_id,
            status=status,
            counts=totals,
            sources=sources,
            error=f"finish reason: {reason}" if status == "interrupted" else None,
        )


def _acknowledge(
    group: list[tuple[tuple[ArticleItem, int, str], asyncio.Future[Any]]], results: list[Any]
) -> None:
    """Pass each article of a committed group on, with its result."""
    for (_, done), result in zip(group, results, strict=True):
        if not done.done():
            done.set_result(result)


class WorkerStorePipeline(StorePipeline):
    """The store pipeline of ``archiver worker``, which has no end to record a run at.

    A source is recorded as soon as it is settled (its outcome reported here and the items
    that follow it stored), exactly as a run records it, and its lease is released, so it
    is due again on its own schedule whatever the worker does next. ``crawl_runs`` rows are
    rounds: one opens at the first source or article after the worker was idle and closes
    when it is idle again or stops; their ids are in the stats as ``archiver/run_ids``.
    Articles are counted in the run of the worker that stored them, a source in the run of
    the worker that settled it (for a sitemap source spread over workers, the one that
    settled its last page; its adaptive interval sees that worker's new articles).
    """

    def __init__(self, *, crawler: Crawler) -> None:
        super().__init__(crawler=crawler)
        self.waiting: dict[str, int] = {}
        """Items still to store per reported source, before it is recorded."""
        self.round_sources: dict[str, Any] = {}
        self.run_ids: list[int] = []
        self._settling: set[asyncio.Future[None]] = set()
        self._round_end: asyncio.Future[None] | None = None
        self._run_lock = asyncio.Lock()
        # Every way out of the pipelines, once each: stored, dropped, or failed.
        for finished in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_finished, signal=finished)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerStorePipeline:
        return cls(crawler=crawler)

    async def open_spider(self) -> None:
        await self._open_archive()  # the first round's run opens with its first source

    async def _ensure_run(self) -> int:
        async with self._run_lock:
            if self.run_id is None:
                self.run_id = await self._start_run()
                self.run_ids.append(self.run_id)
                self.crawler.stats.set_value("archiver/run_ids", list(self.run_ids))
            return self.run_id

    def source_fetched(self, outcome: SourceOutcome) -> None:
        if not outcome.final:
            return  # a sitemap source's stand-in: whoever settles its last page reports it
        super().source_fetched(outcome)
        self.waiting[outcome.url] = outcome.pending_items
        if outcome.pending_items <= 0:
            self._settle_soon(outcome.url)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            await self._ensure_run()
        return await super().process_item(item)

    def item_finished(self, item: Any, **kwargs: Any) -> None:
        """An item is through the pipelines (stored, dropped or failed)."""
        url = getattr(item, "source_url", None)
        if url in self.waiting:
            self.waiting[url] -= 1
            if self.waiting[url] <= 0:
                self._settle_soon(url)

    def _settle_soon(self, url: str) -> None:
        del self.waiting[url]
        task = asyncio.ensure_future(self._settle(url))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, url: str) -> None:
        outcome = self.outcomes.pop(url, None)
        if outcome is None:
            return
        try:
            await self._ensure_run()
            self.round_sources[url] = await self._record_source(outcome)
        except Exception:  # one source's bookkeeping must not stop the worker
            logger.exception("Cannot record the outcome of %s", url)
        finally:
            # Recorded or not, the source is free again: unrecorded, it is still due, and
            # another lease crawls it (rather than this worker keeping it until it stops).
            await self._release(url, outcome.lease_owner)
        self.per_source.pop(url, None)  # its next round counts afresh

    async def _release(self, url: str, owner: str | None) -> None:
        if not owner:
            return
        assert self.archive is not None
        try:
            await self._call(self.archive.leases.release, owner)
        except Exception:  # left to expire: it is no longer renewed for long
            logger.exception("Cannot release the lease of %s", url)

    def spider_idle(self) -> None:
        if self.run_id is not None and not self.waiting and self._round_end is None:
            self._round_end = asyncio.ensure_future(self._finish_round("finished"))
            self._round_end.add_done_callback(self._round_ended)

    def _round_ended(self, _task: asyncio.Future[None]) -> None:
        self._round_end = None

    async def _finish_round(self, reason: str) -> None:
        while self._settling:
            await asyncio.gather(*list(self._settling))
        async with self._run_lock:
            run_id, self.run_id = self.run_id, None
            if run_id is None:
                return
            sources, self.round_sources = self.round_sources, {}
            counts, self.counts = dict(self.counts), Counter()
            self._files = set()
            await self._finish_run(run_id, reason, sources, counts)

    async def spider_closed(self, reason: str) -> None:
        if self.archive is None:
            return
        try:
            await self._drain()
            for url in list(self.outcomes):  # every item is through: settle what is left
                self.waiting.pop(url, None)
                await self._settle(url)
            await self._finish_round(reason)
        finally:
            await self._close()

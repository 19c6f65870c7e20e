"""``archiver worker``: crawling from a Redis queue that processes on many machines share.

scrapy-redis holds the shared request queue and duplicate filter; the database stays the
crawl state (which source is due, who leases it, how it went). This module adapts
scrapy-redis to Scrapy 2.14+ and to the archiver, and runs a worker: the scheduler and the
duplicate filter (Scrapy components), the page bookkeeping of sitemap sources spread over
workers, the extension that leases due sources, and ``run_worker`` for the command line.
scrapy-redis and redis are imported only here and only when a worker starts, so the rest of
the archiver works without the ``redis`` extra.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import pickle
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request

from archiver.crawling.heap import limit_malloc_arenas
from archiver.crawling.runner import (
    CrawlOptions,
    CrawlResult,
    SourceConfig,
    check_rsshub_instance,
    crawl_settings,
    quiet_robots_errors,
    with_archived_pages,
)
from archiver.crawling.scheduled import lease_owner, source_config
from archiver.errors import ArchiverError, ConfigurationError
from archiver.storage import Archive, RunRecord

if TYPE_CHECKING:
    from archiver.crawling.sitemaps import SitemapCrawl

logger = logging.getLogger(__name__)

REDIS_EXTRA = "archiver worker needs scrapy-redis: pip install 'feed-archiver[redis]'"

LOCAL_META_KEY = "archiver_local"
"""Request meta: keep this request in the worker's own queue, never the shared one (a
sitemap source's sitemaps, whose bookkeeping lives in the process that read its root)."""

REDIS_SCHEMES = ("redis", "rediss", "unix")


# -- Redis: the URL, the connection, the keys ---------------------------------------------------


def check_redis_url(url: str | None) -> str:
    """*url* if it can name a Redis server, else a ConfigurationError that says why."""
    if not url:
        raise ConfigurationError(
            "archiver worker needs a Redis: give --redis redis://HOST:6379/0 "
            "or set ARCHIVER_REDIS_URL"
        )
    parts = urlsplit(url)
    if parts.scheme.lower() not in REDIS_SCHEMES:
        raise ConfigurationError(
            f"{url!r} is not a Redis URL (use redis://HOST:6379/0, rediss:// or unix://)"
        )
    try:
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError as exc:
        raise ConfigurationError(f"{url!r} is not a Redis URL: {exc}") from exc
    if parts.scheme.lower() != "unix" and not parts.hostname:
        raise ConfigurationError(f"{url!r} has no host")
    database = parts.path.strip("/")
    if parts.scheme.lower() != "unix" and database and not database.isdigit():
        raise ConfigurationError(f"{url!r}: the database must be a number (redis://HOST/0)")
    return url


def require_scrapy_redis() -> None:
    """An ArchiverError naming the extra when scrapy-redis is not installed."""
    try:
        import scrapy_redis  # noqa: F401
    except ImportError as exc:
        raise ArchiverError(REDIS_EXTRA) from exc


def connect_redis(url: str) -> Any:
    """A client for the Redis at *url*, checked with a PING; one-line errors."""
    import redis

    shown = _hide_password(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except ValueError as exc:
        raise ConfigurationError(f"{shown} is not a Redis URL: {exc}") from exc
    except redis.RedisError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArchiverError(f"cannot reach Redis at {shown}: {message}") from exc
    return client


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass(frozen=True)
class RedisKeys:
    """Every key the workers of one archive use, under one prefix."""

    prefix: str

    @property
    def requests(self) -> str:
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:dupefilter"

    @property
    def sqlite_host(self) -> str:
        return f"{self.prefix}:sqlite-host"

    def sitemap(self, token: str) -> str:
        return f"{self.prefix}:sitemap:{token}"


def _percent_escaped(key: str) -> str:
    """scrapy-redis formats its key settings with ``% {"spider": name}``."""
    return key.replace("%", "%%")


# -- the scheduler and the duplicate filter -----------------------------------------------------

try:
    from redis import Redis as _Redis
    from scrapy_redis.dupefilter import RFPDupeFilter as _RedisDupeFilter
    from scrapy_redis.scheduler import Scheduler as _RedisScheduler
except ImportError:  # without the extra: the classes stay undefined bases (run_worker refuses)
    _Redis = _RedisDupeFilter = _RedisScheduler = object  # type: ignore[assignment,misc]


class RedisClient(_Redis):
    """The client scrapy-redis makes (``REDIS_PARAMS["redis_cls"]``), without the
    ``retry_on_timeout`` that scrapy-redis 0.9.1 always passes: redis-py 6+ deprecates it
    (a warning per connection; timeouts are retried by default now)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("retry_on_timeout", None)
        super().__init__(*args, **kwargs)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        kwargs.pop("retry_on_timeout", None)
        return super().from_url(url, **kwargs)


REDIS_PARAMS = {"redis_cls": "archiver.crawling.workers.RedisClient"}
"""scrapy-redis's ``REDIS_PARAMS`` for a worker."""


class WorkerScheduler(_RedisScheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler (shared priority queue in Redis, persisted: one worker
    stopping never empties it), with a local queue beside it.

    Requests marked ``meta["archiver_local"]`` stay in this process: a sitemap source's
    sitemaps, whose bookkeeping (``SitemapCrawl``) lives where its root was read. The rest
    go to the shared queue; local ones are served first, since they gate a source's pages.

    Adapted, not used as is: scrapy-redis 0.9.1 passes ``spider=`` to every stats call,
    which Scrapy 2.14+ deprecates (a warning per request), so ``enqueue_request`` and
    ``next_request`` are written here without it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.local: list[tuple[int, int, Request]] = []
        self._order = itertools.count()

    def enqueue_request(self, request: Request) -> bool:
        if request.meta.get(LOCAL_META_KEY):
            heapq.heappush(self.local, (-request.priority, next(self._order), request))
            self.stats.inc_value("scheduler/enqueued/local")
            return True
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.local:
            self.stats.inc_value("scheduler/dequeued/local")
            return heapq.heappop(self.local)[2]
        request: Request | None = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        return bool(self.local) or len(self.queue) > 0

    def shared_length(self) -> int:
        """Requests waiting in the shared queue, for every worker."""
        return len(self.queue)


_SEEN_WITHIN = """
local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
if seen and tonumber(seen) > tonumber(ARGV[2]) - tonumber(ARGV[3]) then
    return 1
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 0
"""


class WindowedDupeFilter(_RedisDupeFilter):  # type: ignore[misc]
    """scrapy-redis's duplicate filter (request fingerprints shared in Redis), remembering
    each fingerprint for ``ARCHIVER_WORKER_DUPEFILTER_SECONDS`` rather than forever.

    The stock filter is a set that never forgets: a sitemap page that failed, or that two
    rounds a day apart both need, would be filtered for good, and the set grows without
    bound. Here the set is a sorted set scored by time, checked and written in one Lua
    script (atomic between workers), trimmed as it goes. A page's fingerprint includes the
    sitemap's date for it, so a page updated since is a new request. Only requests without
    ``dont_filter`` get here: feeds never do, so a feed is fetched every round.
    """

    window = 30 * 60
    _calls = 0

    @classmethod
    def from_spider(cls, spider: Any) -> WindowedDupeFilter:
        instance = super().from_spider(spider)
        instance.window = spider.settings.getint(
            "ARCHIVER_WORKER_DUPEFILTER_SECONDS", instance.window
        )
        instance._seen_within = instance.server.register_script(_SEEN_WITHIN)
        return instance  # type: ignore[no-any-return]

    def request_fingerprint(self, request: Request) -> str:
        fingerprint: str = super().request_fingerprint(request)
        entry = request.meta.get("sitemap_entry")
        date = getattr(entry, "date", None)
        if date is not None:
            fingerprint = hashlib.sha1(f"{fingerprint} {date.isoformat()}".encode()).hexdigest()  # noqa: S324  # a fingerprint, as scrapy-redis's own
        return fingerprint

    def request_seen(self, request: Request) -> bool:
        now = time.time()
        seen = self._seen_within(
            keys=[self.key], args=[self.request_fingerprint(request), now, self.window]
        )
        self._calls += 1
        if self._calls % 1000 == 0:
            self.server.zremrangebyscore(self.key, "-inf", now - self.window)
        return bool(seen)


# -- sitemap sources spread over workers --------------------------------------------------------


class SharedSitemapPages:
    """The page bookkeeping of sitemap sources whose pages any worker may fetch.

    When a sitemap source's pages are requested, what ``finish_sitemap`` needs (its outcome,
    sitemap errors, pages unchanged or left out) goes to a Redis hash with the number of
    pages pending. Each worker that settles a page decrements it in a transaction; the one
    that reaches zero rebuilds the source's ``SitemapCrawl`` and reports it. The keys expire
    with the lease: a round cut short by a killed worker is crawled again, not reported.
    """

    def __init__(self, server: Any, keys: RedisKeys, ttl: int) -> None:
        self.server = server
        self.keys = keys
        self.ttl = ttl

    def start(self, crawl: SitemapCrawl) -> str:
        """Share *crawl* (its ``pending_pages`` set); the token its page requests carry."""
        token = uuid.uuid4().hex
        key = self.keys.sitemap(token)
        # What finish_sitemap reads, without the pages listed: the pages are counted here.
        state = replace(
            crawl, entries={}, listed_in={}, sitemaps=set(), sitemaps_followed=0, failures=[]
        )
        pipe = self.server.pipeline()
        pipe.hset(
            key,
            mapping={"pending": crawl.pending_pages, "archived": 0, "state": pickle.dumps(state)},
        )
        pipe.expire(key, self.ttl)
        pipe.execute()
        return token

    def settle(self, token: str, *, archived: bool, failure: str | None) -> SitemapCrawl | None:
        """One page settled; the source's crawl when it was the last, else None."""
        key = self.keys.sitemap(token)
        failures = f"{key}:failures"
        pipe = self.server.pipeline()  # MULTI/EXEC: one worker sees zero
        pipe.hincrby(key, "pending", -1)
        pipe.hincrby(key, "archived", int(archived))
        pipe.expire(key, self.ttl)
        if failure is not None:
            pipe.rpush(failures, failure)
            pipe.expire(failures, self.ttl)
        pending = pipe.execute()[0]
        if int(pending) != 0:
            return None
        pipe = self.server.pipeline()
        pipe.hmget(key, ["state", "archived"])
        pipe.lrange(failures, 0, -1)
        pipe.delete(key, failures)
        (state, archived_count), failed, _ = pipe.execute()
        if state is None:  # expired: the round was abandoned
            return None
        # The state was written by a worker of this archive, like scrapy-redis's own pickles.
        crawl: SitemapCrawl = pickle.loads(state)  # noqa: S301
        crawl.archived = int(archived_count)
        crawl.failures = [f.decode("utf-8", "replace") for f in failed]
        crawl.pending_pages = 0
        return crawl


# -- the extension that leases due sources ------------------------------------------------------


class SourceClaimer:
    """Leases due sources and puts their feed requests in the shared queue, for as long as
    the worker runs; with ``ARCHIVER_WORKER_UNTIL_IDLE``, closes the worker once nothing is
    due and the shared queue has stayed empty ``ARCHIVER_WORKER_IDLE_SECONDS``.

    The leases are the ones ``archiver run`` takes (``archive.leases.acquire``), one per
    source (``<worker>/<source id>``), so that whichever worker records a source releases
    exactly its lease. Every third of ``ARCHIVER_LEASE_SECONDS`` the worker renews the
    leases it took less than ``RENEW_FOR`` lease lengths ago and still holds (a source
    whose pages take longer stays its own); an older one is left to run out, so a source
    that will never be recorded (its request lost with a killed worker, its sitemap count
    expired, its recording failed) is leased again. It releases them all when it stops; a
    killed worker's expire.
    """

    RENEW_FOR = 4
    """Lease lengths after which a lease is no longer renewed (two hours by default)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.poll_seconds = settings.getfloat("ARCHIVER_WORKER_POLL_SECONDS", 1.0)
        self.batch = settings.getint("ARCHIVER_WORKER_BATCH", 50)
        self.queue_low = settings.getint("ARCHIVER_WORKER_QUEUE_LOW", 200)
        self.until_idle = settings.getbool("ARCHIVER_WORKER_UNTIL_IDLE")
        self.idle_seconds = settings.getfloat("ARCHIVER_WORKER_IDLE_SECONDS", 3.0)
        self.lease_seconds = max(settings.getint("ARCHIVER_LEASE_SECONDS"), 1)
        self.owner = lease_owner()
        self.renewed = time.monotonic()
        self.claims: dict[str, float] = {}
        """The leases this worker took (per-source owner -> when, monotonic), while they
        may be renewed."""
        self.archive: Archive | None = None
        self.task: asyncio.Future[None] | None = None
        self._close: asyncio.Future[None] | None = None
        self.closing = False
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceClaimer:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        self.archive = Archive(self.crawler.settings.get("ARCHIVER_DATABASE_URL"), migrate=False)
        self.task = asyncio.ensure_future(self.loop(spider))

    def spider_idle(self, spider: Any) -> None:
        if not self.closing:
            raise DontCloseSpider  # a worker waits for sources and for the shared queue

    async def spider_closed(self, spider: Any, reason: str) -> None:
        self.closing = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
        if self.archive is None:
            return
        try:
            await asyncio.to_thread(self.archive.leases.release, self.owner, family=True)
        finally:
            self.archive.close()

    async def renew(self) -> None:
        """Renew the leases this worker took less than ``RENEW_FOR`` lease lengths ago,
        once a third of their length has passed; a failed renewal is tried at the next
        poll."""
        assert self.archive is not None
        now = time.monotonic()
        if now - self.renewed < self.lease_seconds / 3:
            return
        bound = self.RENEW_FOR * self.lease_seconds
        self.claims = {owner: at for owner, at in self.claims.items() if now - at < bound}
        if self.claims:
            await asyncio.to_thread(
                self.archive.leases.renew, list(self.claims), self.lease_seconds
            )
        self.renewed = now

    async def loop(self, spider: Any) -> None:
        engine = self.crawler.engine
        assert engine is not None
        idle_since: float | None = None
        while not self.closing:
            claimed = 0
            try:
                await self.renew()
                claimed = await self.claim(spider)
                scheduler = engine.scheduler
                if scheduler is not None and scheduler.has_pending_requests():
                    # The engine looks at its scheduler after its own requests and on a 5 s
                    # heartbeat; what other workers queued is taken at once instead.
                    slot = getattr(engine, "_slot", None)
                    if slot is not None:
                        slot.nextcall.schedule()
                idle = engine.spider_is_idle()
            except ArchiverError as exc:  # the database is away: try again next poll
                logger.error("Cannot lease due sources: %s", exc)
                idle = False
            except Exception:  # Redis is away, or a bug: logged, and the worker goes on
                logger.exception("Cannot lease due sources")
                idle = False
            if self.until_idle and not claimed and idle:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since >= self.idle_seconds:
                    self.closing = True
                    # Not awaited: closing cancels this task (spider_closed).
                    self._close = asyncio.ensure_future(
                        engine.close_spider_async(reason="finished")
                    )
                    return
            else:
                idle_since = None
            await asyncio.sleep(self.poll_seconds)

    async def claim(self, spider: Any) -> int:
        """Lease due sources while the shared queue is short; queue their feeds."""
        engine = self.crawler.engine
        assert engine is not None
        scheduler = engine.scheduler
        if isinstance(scheduler, WorkerScheduler) and scheduler.shared_length() >= self.queue_low:
            return 0
        configs = await asyncio.to_thread(self._lease_due)
        for config in configs:
            engine.crawl(spider.source_request(config))
        return len(configs)

    def _lease_due(self) -> list[SourceConfig]:
        assert self.archive is not None
        won = []
        for source in self.archive.sources.claimable(self.batch):
            owner = f"{self.owner}/{source.id}"
            # Still due when leased: another worker may have recorded it since.
            if self.archive.leases.acquire([source.id], owner, self.lease_seconds, due_only=True):
                self.claims[owner] = time.monotonic()
                won.append(source_config(source, lease=owner))
        if not won:
            return []
        # A sitemap source's pages archived before cost no request (as for `run`).
        return with_archived_pages(self.archive, CrawlOptions(urls=[], sources=won))


_CLAIM_HOST = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
    return holder
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""
"""``SqliteGuard``'s check: the other host holding the key, or nil once this host has it."""


class SqliteGuard:
    """A SQLite archive is a file on one machine: workers on two machines would each fill
    their own. The first worker's host name is kept in Redis while workers run; a worker
    on another host is refused (PostgreSQL is the shared archive)."""

    TTL = 60

    def __init__(self, server: Any, keys: RedisKeys) -> None:
        self.server = server
        self.key = keys.sqlite_host
        self.host = socket.gethostname()
        self._claim = server.register_script(_CLAIM_HOST)

    def check(self) -> None:
        """Take or refresh the key for this host, or refuse: one Lua script, so two
        workers on two hosts starting together cannot both pass."""
        holder = self._claim(keys=[self.key], args=[self.host, self.TTL])
        if holder is not None:
            raise ConfigurationError(
                f"workers on {holder.decode()} share this Redis with a SQLite archive; "
                "a SQLite archive is on one machine: give every worker "
                "--db postgresql://... (or another --redis prefix)"
            )


class SqliteHeartbeat:
    """Keeps ``SqliteGuard``'s key alive while a worker on a SQLite archive runs."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.guard: SqliteGuard | None = None
        self.task: asyncio.Future[None] | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SqliteHeartbeat:
        return cls(crawler)

    def spider_opened(self, spider: Any) -> None:
        settings = self.crawler.settings
        if not settings.get("ARCHIVER_DATABASE_URL", "").startswith("sqlite"):
            return
        server = connect_redis(settings.get("ARCHIVER_REDIS_URL"))
        self.guard = SqliteGuard(server, RedisKeys(settings.get("ARCHIVER_REDIS_PREFIX")))
        self.task = asyncio.ensure_future(self.beat())

    async def beat(self) -> None:
        assert self.guard is not None
        while True:
            await asyncio.sleep(SqliteGuard.TTL / 3)
            try:
                await asyncio.to_thread(self.guard.check)
            except ArchiverError as exc:
                logger.error("%s", exc)

    def spider_closed(self, spider: Any) -> None:
        if self.task is not None:
            self.task.cancel()


# -- running a worker ---------------------------------------------------------------------------


def worker_settings(
    options: CrawlOptions, *, redis_url: str, until_idle: bool, idle_seconds: float
) -> dict[str, Any]:
    """The Scrapy settings a worker adds to a crawl's."""
    from archiver.crawling.runner import project_settings

    base = project_settings()
    prefix = base.get("ARCHIVER_REDIS_PREFIX") or "archiver"
    keys = RedisKeys(prefix)
    pipelines = {
        (
            "pipelines.store.WorkerStorePipeline"
            if name == "pipelines.store.StorePipeline"
            else name
        ): order
        for name, order in base.getdict("ITEM_PIPELINES").items()
    }
    extensions = {
        **base.getdict("EXTENSIONS"),
        "archiver.crawling.workers.SourceClaimer": 100,
        "archiver.crawling.workers.SqliteHeartbeat": 110,
    }
    return {
        "SCHEDULER": "archiver.crawling.workers.WorkerScheduler",
        "DUPEFILTER_CLASS": "archiver.crawling.workers.WindowedDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_KEY": _percent_escaped(keys.requests),
        "SCHEDULER_DUPEFILTER_KEY": _percent_escaped(keys.dupefilter),
        "REDIS_URL": redis_url,
        "REDIS_PARAMS": REDIS_PARAMS,
        "ARCHIVER_REDIS_URL": redis_url,
        "ARCHIVER_REDIS_PREFIX": prefix,
        "ITEM_PIPELINES": pipelines,
        "EXTENSIONS": extensions,
        "ARCHIVER_WORKER_UNTIL_IDLE": until_idle,
        "ARCHIVER_WORKER_IDLE_SECONDS": idle_seconds,
        **options.settings,
    }


def run_worker(
    options: CrawlOptions,
    *,
    redis_url: str | None,
    until_idle: bool = False,
    idle_seconds: float = 3.0,
) -> CrawlResult:
    """Run a worker in this process until it is stopped (SIGTERM, SIGINT) or, with
    *until_idle*, until nothing is due and the shared queue stays empty; returns what it
    did (every round it recorded, summed)."""
    url = check_redis_url(redis_url)
    require_scrapy_redis()
    server = connect_redis(url)
    options.command = "worker"
    options.settings = worker_settings(
        options, redis_url=url, until_idle=until_idle, idle_seconds=idle_seconds
    )
    settings = crawl_settings(options)
    quiet_robots_errors()
    check_rsshub_instance(settings)  # a bad one would fail every route source it leases
    database_url = settings.get("ARCHIVER_DATABASE_URL")
    if database_url.startswith("sqlite"):
        SqliteGuard(server, RedisKeys(settings.get("ARCHIVER_REDIS_PREFIX"))).check()
    server.close()
    Archive(database_url).close()  # create or upgrade the archive before any fetch

    from scrapy.crawler import CrawlerProcess

    limit_malloc_arenas(settings.getint("ARCHIVER_MALLOC_ARENAS"))
    started = time.monotonic()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("feed-worker")  # by name, as run_crawl does
    process.crawl(crawler)
    process.start()
    seconds = time.monotonic() - started
    stats = crawler.stats.get_stats() if crawler.stats else {}
    archive = Archive(database_url, migrate=False)
    try:
        runs = [archive.runs.get(run_id) for run_id in stats.get("archiver/run_ids", [])]
    finally:
        archive.close()
    return CrawlResult(run=combine_runs(runs), seconds=seconds, stats=stats)


def combine_runs(runs: Sequence[RunRecord]) -> RunRecord:
    """A worker's rounds as one record for its summary line: counts summed, per-source
    outcomes merged (a source's latest wins), the last round's status and error."""
    from datetime import UTC, datetime

    if not runs:
        now = datetime.now(UTC)
        return RunRecord(0, "worker", "ok", now, now, 0, 0, 0, 0, 0, 0, 0)
    sources: dict[str, Any] = {}
    for run in runs:
        sources.update(run.sources)
    counted = ("new", "updated", "unchanged", "failed", "not_modified", "images", "bytes")
    totals = {key: sum(getattr(run, key) for run in runs) for key in counted}
    return replace(runs[-1], started_at=runs[0].started_at, sources=sources, **totals)

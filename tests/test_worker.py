"""`archiver worker`: workers sharing a Redis queue, PostgreSQL or SQLite, the mock site."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, archiver_env, run_archiver, start_archiver, wait_until
from tests.test_schedule import SHORT_LEASES, add_slow_source, check_slow_source_is_still_taken

FEEDS = ["/feeds/rss2.xml", "/feeds/atom10.xml", "/feeds/jsonfeed11.json"]
SITEMAP = "/sitemap.xml"
SAME_PAGES = "/sitemaps/articles.xml.gz"
"""A second sitemap source listing pages of the first: the shared duplicate filter's work."""
UNTIL_IDLE = ("--until-idle", "--idle-seconds", "0.5")
NO_PAGES = ("--full-text", "never")


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own (tests run in parallel on one Redis), cleaned up."""
    import redis

    prefix = f"archiver-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def start_worker(
    db: str,
    redis_url: str,
    prefix: str,
    *args: str,
    cwd: Path,
    media: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    options = ["--db", db, *(["--media", str(media)] if media is not None else [])]
    return start_archiver(
        *options, "worker", "--redis", redis_url, *args,
        cwd=cwd, env={"ARCHIVER_REDIS_PREFIX": prefix, **(extra_env or {})},
    )  # fmt: skip


def finish(process: subprocess.Popen[str], timeout: float = 90) -> tuple[int, str, str]:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, stdout, stderr


def add_sources(db: str, site: Any, paths: list[str]) -> None:
    """Schedule *paths* of the mock site, as `sources add` does (without its probe)."""
    from archiver.storage import Archive

    archive = Archive(db)
    try:
        for path in paths:
            kind = "sitemap" if path in (SITEMAP, SAME_PAGES) else "unknown"
            archive.sources.schedule(site.url(path), kind=kind, interval=3600)
    finally:
        archive.close()


def sql(db: str, query: str) -> list[Any]:
    from sqlalchemy import create_engine, text

    from archiver.storage.db import resolve_database_url

    url = resolve_database_url(db)
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(query))
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


def path_counts(site: Any, paths: list[str]) -> Counter[str]:
    wanted = set(paths)
    return Counter(r["path"].split("?")[0] for r in site.requests() if r["path"] in wanted)


def sitemap_pages(site: Any) -> list[str]:
    """The article pages the mock site's sitemaps list (paths)."""
    from urllib.parse import urlsplit

    from archiver.readers.sitemaps import parse_sitemap

    pages = []
    index = parse_sitemap(site.get(SITEMAP).body, site.url(SITEMAP))
    for entry in index.entries:
        child = parse_sitemap(site.get(urlsplit(entry.url).path).body, entry.url)
        pages += [urlsplit(page.url).path for page in child.entries]
    return sorted(set(pages))


@pytest.mark.redis
@pytest.mark.postgres
def test_two_workers_archive_each_article_once_then_fetch_conditionally(
    mock_site: Any,
    postgres_url: str,
    db_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    sources = [*FEEDS, SITEMAP, SAME_PAGES]
    add_sources(postgres_url, mock_site, sources)
    pages = sitemap_pages(mock_site)
    assert len(pages) >= 2
    media = tmp_path / "media"  # the shared media store
    mock_site.reset_log()
    # No page of a feed entry: those go around the shared queue (test_workers_fetch_the_pages
    # below), and this test counts the queue's requests.
    workers = [
        start_worker(
            postgres_url, redis_url, redis_prefix, *UNTIL_IDLE, *NO_PAGES, cwd=tmp_path,
            media=media,
        )
        for _ in range(2)
    ]  # fmt: skip
    results = [finish(worker) for worker in workers]
    for returncode, stdout, stderr in results:
        assert returncode == 0, stderr
        assert "Traceback" not in stderr
        assert " sources in " in stdout or " source in " in stdout
    # Each feed and each sitemap page fetched once, by one worker or the other, though two
    # sources list the pages (one `run` fetches them for each).
    assert path_counts(mock_site, [*sources, *pages]) == dict.fromkeys([*sources, *pages], 1)

    # The same articles as one `run --due` of the same sources, one row each.
    add_sources(db_url, mock_site, sources)
    baseline = run_archiver("--db", db_url, "run", "--due", "--no-images", *NO_PAGES)
    assert baseline.returncode == 0, baseline.stderr
    query = "select url from articles order by url"
    archived = [row[0] for row in sql(postgres_url, query)]
    assert archived == [row[0] for row in sql(db_url, query)]
    assert len(archived) == len(set(archived)) > 5
    assert list(media.rglob("*.png")), "images go to the shared media directory"

    # Every source recorded as `run` records it: due again later, no lease held.
    rows = sql(
        postgres_url,
        "select last_status, next_due_at > now(), lease_owner, etag is not null from sources",
    )
    assert sorted(r[0] for r in rows) == ["ok"] * len(sources)
    assert all(r[1] and r[2] is None for r in rows)
    runs = run_archiver("--db", postgres_url, "runs", "--format", "json").json()
    assert {r["command"] for r in runs} == {"worker"}
    recorded: Counter[str] = Counter()
    archived_pages = 0
    for run in runs:
        recorded.update(list(run["sources"]))
        archived_pages += sum(
            run["sources"].get(mock_site.url(path), {}).get("entries", 0)
            for path in (SITEMAP, SAME_PAGES)
        )
    assert recorded == dict.fromkeys([mock_site.url(p) for p in sources], 1)
    assert archived_pages == len(pages)  # by one sitemap source or the other, never both

    # Due again: a second round makes conditional requests only, and no page request.
    sql(postgres_url, "update sources set next_due_at = now() - interval '1 minute'")
    mock_site.reset_log()
    workers = [
        start_worker(postgres_url, redis_url, redis_prefix, *UNTIL_IDLE, cwd=tmp_path, media=media)
        for _ in range(2)
    ]
    for returncode, _, stderr in (finish(worker) for worker in workers):
        assert returncode == 0, stderr
    requests = [r for r in mock_site.requests() if r["path"] in FEEDS]
    assert Counter(r["path"] for r in requests) == dict.fromkeys(FEEDS, 1)
    for request in requests:
        assert "if-none-match" in request["headers"] or "if-modified-since" in request["headers"]
        assert request["status"] == 304
    assert path_counts(mock_site, pages) == {}  # unchanged pages cost no request
    assert len(sql(postgres_url, "select id from articles")) == len(archived)
    assert sql(postgres_url, "select count(*) from sources where lease_owner is not null") == [(0,)]


@pytest.mark.redis
def test_a_worker_on_sqlite_until_idle(
    mock_site: Any, db_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    add_sources(db_url, mock_site, FEEDS)
    worker = start_worker(
        db_url, redis_url, redis_prefix, "--until-idle", "--idle-seconds", "0.5", "--no-images",
        cwd=tmp_path,
    )  # fmt: skip
    returncode, stdout, stderr = finish(worker)
    assert returncode == 0, stderr
    assert stdout.startswith("3 sources in "), stdout
    assert " new, " in stdout
    listed = run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    assert [s["last_status"] for s in listed] == ["ok"] * 3
    runs = run_archiver("--db", db_url, "runs", "--format", "json").json()
    assert [r["command"] for r in runs] == ["worker"]
    assert runs[0]["status"] == "ok"
    assert runs[0]["new"] > 0


@pytest.mark.redis
def test_sigterm_stops_a_worker_cleanly_and_releases_its_leases(
    mock_site: Any, db_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    slow = mock_site.url("/feeds/rss2.xml?delay=2")
    added = run_archiver("--db", db_url, "sources", "add", slow, "--no-check", "--every", "1h")
    assert added.returncode == 0, added.stderr
    worker = start_worker(db_url, redis_url, redis_prefix, "--no-images", cwd=tmp_path)
    try:
        held = "select count(*) from sources where lease_owner is not null"
        assert wait_until(lambda: sql(db_url, held) == [(1,)], step=0.2), "the source is leased"
        time.sleep(0.5)  # its feed is being fetched
        worker.send_signal(signal.SIGTERM)
        returncode, stdout, stderr = finish(worker, timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    assert " new, " in stdout
    assert sql(db_url, held) == [(0,)]
    # The feed in flight was finished, stored and recorded; the round says it was cut short.
    assert sql(db_url, "select last_status from sources") == [("ok",)]
    runs = run_archiver("--db", db_url, "runs", "--format", "json").json()
    assert [(r["command"], r["status"]) for r in runs] == [("worker", "interrupted")]
    assert runs[0]["new"] > 0


def test_a_worker_keeps_the_leases_of_a_source_that_takes_long(
    mock_site: Any, db_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """The worker renews its lease, so a run started after it would have expired finds the
    source taken, and the feed is fetched once (as for run: test_schedule)."""
    add_slow_source(db_url, mock_site)
    # No entries' pages: with 2 s leases, a source still storing its articles after four
    # lease lengths (8 s) may be leased again (the documented bound), and extracting pages in
    # a process started for them takes that long on a loaded machine.
    worker = start_worker(
        db_url, redis_url, redis_prefix, "--no-images", "--until-idle", *NO_PAGES,
        cwd=tmp_path, extra_env=SHORT_LEASES,
    )  # fmt: skip
    try:
        check_slow_source_is_still_taken(db_url, mock_site)
        returncode, _, stderr = finish(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert returncode == 0, stderr
    assert len(mock_site.requests("/feeds/rss2.xml")) == 1
    held = "select count(*) from sources where lease_owner is not null"
    assert sql(db_url, held) == [(0,)]


@pytest.mark.parametrize(
    ("url", "code", "message"),
    [
        ("http://127.0.0.1:6379/0", 2, "is not a Redis URL"),
        ("redis://127.0.0.1:notaport/0", 2, "is not a Redis URL"),
        ("redis://127.0.0.1:1/0", 1, "cannot reach Redis at redis://127.0.0.1:1/0"),
    ],
)
def test_a_bad_or_unreachable_redis_is_one_line(
    db_url: str, url: str, code: int, message: str
) -> None:
    result = run_archiver("--db", db_url, "worker", "--redis", url)
    assert result.returncode == code
    assert message in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr  # one line
    assert message in errors[0]
    assert "Traceback" not in result.stderr


def test_a_worker_needs_a_redis(db_url: str) -> None:
    result = run_archiver("--db", db_url, "worker")
    assert result.returncode == 2
    assert "--redis" in result.stderr


BLOCK_SCRAPY_REDIS = "import sys; sys.modules['scrapy_redis'] = None; "


def test_without_the_extra_crawl_works_and_worker_names_it(tmp_path: Path) -> None:
    env = archiver_env()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        code = BLOCK_SCRAPY_REDIS + f"from archiver.cli import cli; cli({list(args)!r})"
        return subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True, text=True, cwd=tmp_path, env=env, check=False, timeout=120,
        )  # fmt: skip

    db = f"sqlite:///{tmp_path / 'a.db'}"
    sample = (ROOT / "archiver" / "samples" / "sample-feed.xml").as_uri()
    crawled = cli("--db", db, "crawl", sample, "--no-images")
    assert crawled.returncode == 0, crawled.stderr
    assert "3 new" in crawled.stdout
    refused = cli("--db", db, "worker", "--redis", "redis://127.0.0.1:6379/0")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: archiver worker needs scrapy-redis: pip install 'feed-archiver[redis]'"
    )


@pytest.mark.redis
def test_requests_survive_the_shared_queue(redis_url: str, redis_prefix: str) -> None:
    """Every kind of request a worker makes goes through scrapy-redis's real queue (pickled
    ``Request.to_dict``) and comes back with its callback and meta."""
    from datetime import UTC, datetime

    from scrapy.utils.test import get_crawler
    from scrapy_redis.queue import PriorityQueue

    from archiver.crawling.runner import SourceConfig
    from archiver.crawling.signals import SourceOutcome
    from archiver.crawling.sitemaps import SitemapCrawl
    from archiver.crawling.workers import REDIS_PARAMS, RedisKeys, WindowedDupeFilter, connect_redis
    from archiver.readers.sitemaps import SitemapEntry
    from spiders.worker import WorkerSpider

    settings = {
        "ARCHIVER_REDIS_URL": redis_url,
        "REDIS_URL": redis_url,
        "ARCHIVER_REDIS_PREFIX": redis_prefix,
        "SCHEDULER_DUPEFILTER_KEY": RedisKeys(redis_prefix).dupefilter,
        "REDIS_PARAMS": REDIS_PARAMS,
    }
    crawler = get_crawler(WorkerSpider, settings)
    spider = WorkerSpider.from_crawler(crawler)
    feed = spider.source_request(
        SourceConfig(
            url="https://example.com/feed.xml",
            categories=("资讯",),
            timezone="Asia/Shanghai",
            etag='"v1"',
            kind="rss",
            lease_owner="host:1:abc/7",
        )
    )
    entry = SitemapEntry(url="https://example.com/a.html", lastmod=datetime(2021, 4, 2, tzinfo=UTC))
    crawl = SitemapCrawl("https://example.com/feed.xml", SourceOutcome(url="x"))
    crawl.pending_pages = 1
    (page,) = spider.page_requests(crawl, [entry])
    server = connect_redis(redis_url)
    queue = PriorityQueue(server, spider, RedisKeys(redis_prefix).requests)
    for request in (feed, page):
        queue.push(request)
        back = queue.pop()
        assert back.url == request.url
        assert back.callback == request.callback
        assert back.errback == request.errback
        assert back.meta == request.meta
        assert back.dont_filter == request.dont_filter
        assert back.headers == request.headers
    assert feed.dont_filter
    assert feed.headers[b"If-None-Match"] == b'"v1"'
    assert feed.meta["source_config"]["categories"] == ["资讯"]
    assert feed.meta["lease_owner"] == "host:1:abc/7"
    assert not page.dont_filter
    assert page.meta["sitemap_entry"] == entry

    # The shared duplicate filter: a page once per version, within its window.
    crawler.spider = spider
    dupefilter = WindowedDupeFilter.from_spider(spider)
    assert not dupefilter.request_seen(page)
    assert dupefilter.request_seen(page)
    newer = SitemapEntry(url=entry.url, lastmod=datetime(2021, 5, 1, tzinfo=UTC))
    assert not dupefilter.request_seen(page.replace(meta={**page.meta, "sitemap_entry": newer}))
    dupefilter.window = 0
    assert not dupefilter.request_seen(page)
    server.close()


@pytest.mark.redis
def test_a_sqlite_archive_is_refused_to_a_second_machine(
    db_url: str, redis_url: str, redis_prefix: str
) -> None:
    import redis

    from archiver.crawling.workers import RedisKeys

    client = redis.Redis.from_url(redis_url)
    try:
        client.set(RedisKeys(redis_prefix).sqlite_host, "another-machine", ex=60)
    finally:
        client.close()
    result = run_archiver(
        "--db", db_url, "worker", "--redis", redis_url,
        env={"ARCHIVER_REDIS_PREFIX": redis_prefix}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "workers on another-machine share this Redis with a SQLite archive" in result.stderr
    assert "Traceback" not in result.stderr


def claimer_for(db_url: str, lease_seconds: int) -> Any:
    """A worker's ``SourceClaimer`` on *db_url*, without the crawl around it."""
    from scrapy.utils.test import get_crawler

    from archiver.crawling.workers import SourceClaimer
    from archiver.storage import Archive

    crawler = get_crawler(
        settings_dict={"ARCHIVER_DATABASE_URL": db_url, "ARCHIVER_LEASE_SECONDS": lease_seconds}
    )
    claimer = SourceClaimer(crawler)
    claimer.archive = Archive(db_url, migrate=False)
    return claimer


def test_a_worker_stops_renewing_a_lease_that_is_never_recorded(db_url: str) -> None:
    """A source leased and then never recorded (its request lost with a killed worker, its
    recording failed) is renewed for four lease lengths, then left to expire: it is leased
    again, though the worker that took it runs on."""
    import asyncio

    from archiver.storage import Archive

    archive = Archive(db_url)
    claimer = claimer_for(db_url, lease_seconds=1)
    try:
        archive.sources.schedule("http://127.0.0.1:9/lost.xml", kind="rss", interval=3600)
        claimed_at = time.monotonic()
        (config,) = claimer._lease_due()
        assert config.lease_owner.startswith(f"{claimer.owner}/")
        free: list[Any] = []
        while time.monotonic() - claimed_at < 8:
            asyncio.run(claimer.renew())  # what the worker does at every poll
            free = archive.sources.claimable(10)
            if time.monotonic() - claimed_at < 3:
                assert free == [], "renewed while it may still be in flight"
            if free:
                break
            time.sleep(0.2)
        assert free, "a lease never recorded is renewed forever"
        assert time.monotonic() - claimed_at >= 4
    finally:
        claimer.archive.close()
        archive.close()


def test_a_failed_renewal_is_tried_again_at_the_next_poll(db_url: str) -> None:
    import asyncio

    from archiver.errors import ArchiverError
    from archiver.storage import Archive

    archive = Archive(db_url)
    claimer = claimer_for(db_url, lease_seconds=60)
    try:
        archive.sources.schedule("http://127.0.0.1:9/f.xml", kind="rss", interval=3600)
        claimer._lease_due()
        expires = "select lease_expires_at from sources"
        leased = sql(db_url, expires)
        claimer.renewed = time.monotonic() - 30  # a renewal is due (every 20 s)

        def database_away(*args: Any, **kwargs: Any) -> int:
            raise ArchiverError("database is locked")

        claimer.archive.leases.renew = database_away
        with pytest.raises(ArchiverError):
            asyncio.run(claimer.renew())
        del claimer.archive.leases.renew
        time.sleep(0.05)
        asyncio.run(claimer.renew())  # the next poll
        assert sql(db_url, expires) > leased
    finally:
        claimer.archive.close()
        archive.close()


@pytest.mark.redis
def test_a_source_whose_recording_fails_is_released_and_leased_again(
    mock_site: Any, db_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """A database error while recording a source ("database is locked" with several
    workers on one SQLite file) is logged, and the lease is released all the same: the
    source, still due, is leased and fetched again rather than held until the worker
    stops."""
    add_sources(db_url, mock_site, ["/feeds/rss2.xml"])
    sql(
        db_url,
        "create trigger locked before update of last_status on sources "
        "begin select raise(abort, 'database is locked'); end",
    )
    mock_site.reset_log()
    worker = start_worker(db_url, redis_url, redis_prefix, "--no-images", cwd=tmp_path)
    try:
        wait_until(lambda: len(mock_site.requests("/feeds/rss2.xml")) >= 2, step=0.2)
        fetched = len(mock_site.requests("/feeds/rss2.xml"))
        worker.send_signal(signal.SIGTERM)
        returncode, _, stderr = finish(worker, timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert fetched >= 2, "the lease of a source not recorded was kept"
    assert returncode == 0, stderr
    assert "Cannot record the outcome of " + mock_site.url("/feeds/rss2.xml") in stderr
    assert "database is locked" in stderr
    assert sql(db_url, "select last_status, lease_owner from sources") == [(None, None)]


@pytest.mark.redis
def test_two_hosts_starting_together_cannot_both_share_a_sqlite_archive(
    redis_url: str, redis_prefix: str
) -> None:
    """The host check is one step in Redis: a second host checking between the first's
    read and write (two machines starting together) is refused, not let through."""
    import redis

    from archiver.crawling.workers import RedisKeys, SqliteGuard
    from archiver.errors import ConfigurationError

    class Interleaved:
        """The Redis client, with the other host's check run as soon as one of this one's
        commands is done, as when both start at the same moment."""

        def __init__(self, client: Any) -> None:
            self.client = client
            self.other: SqliteGuard | None = None
            self.refused: list[str] = []

        def _other_checks(self) -> None:
            other, self.other = self.other, None
            if other is not None:
                try:
                    other.check()
                except ConfigurationError as exc:
                    self.refused.append(f"{other.host}: {exc}")

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(self.client, name)
            if name in ("register_script", "pipeline") or not callable(attribute):
                return attribute

            def command(*args: Any, **kwargs: Any) -> Any:
                result = attribute(*args, **kwargs)
                self._other_checks()
                return result

            return command

    keys = RedisKeys(redis_prefix)
    client = redis.Redis.from_url(redis_url)
    try:
        interleaved = Interleaved(client)
        first = SqliteGuard(interleaved, keys)
        first.host = "host-a"
        second = SqliteGuard(client, keys)
        second.host = "host-b"
        interleaved.other = second
        refused = interleaved.refused
        try:
            first.check()
        except ConfigurationError as exc:
            refused.append(f"host-a: {exc}")
        interleaved._other_checks()  # if no command of the first check let it in: after
        assert len(refused) == 1, refused  # one host or the other, never both
        holder = client.get(keys.sqlite_host).decode()
        assert refused[0].startswith("host-b" if holder == "host-a" else "host-a")
        assert f"workers on {holder} share this Redis" in refused[0]
    finally:
        client.close()


def test_a_worker_with_a_bad_rsshub_instance_does_not_start(db_url: str, redis_url: str) -> None:
    result = run_archiver(
        "--db", db_url, "worker", "--redis", redis_url, env={"ARCHIVER_RSSHUB_URL": "nope"}
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: ARCHIVER_RSSHUB_URL 'nope' is not an http(s) URL of an RSSHub instance")
    )


@pytest.mark.redis
def test_workers_fetch_the_pages_of_teasers(
    mock_site: Any, db_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    add_sources(db_url, mock_site, ["/whole/summary.atom"])
    worker = start_worker(
        db_url, redis_url, redis_prefix, *UNTIL_IDLE, cwd=tmp_path, media=tmp_path / "media"
    )
    returncode, _, stderr = finish(worker)
    assert returncode == 0, stderr
    rows = sql(db_url, "select content_source, page_status from articles")
    assert rows == [("page:extractor", "fetched")] * 4
    assert list((tmp_path / "captures").glob("*.warc.gz"))

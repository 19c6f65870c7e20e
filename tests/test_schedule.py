"""Scheduled crawling: the sources registry, due runs, conditional requests, leases, OPML."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver.crawling.policy import (
    MAX_INTERVAL,
    MIN_INTERVAL,
    FetchHints,
    next_due,
    next_interval,
    parse_cache_control,
    parse_interval,
    parse_retry_after,
)
from archiver.errors import ConfigurationError
from archiver.readers.opml import Subscription, parse_opml, write_opml
from archiver.storage import Archive
from tests.conftest import ROOT, run_archiver, start_archiver, wait_until


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("1h", 3600), ("1d", 86400), ("90", 90), ("1.5h", 5400), ("2 w", 1209600)],
)
def test_parse_interval(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5s", "-1h", "1y"])
def test_parse_interval_refuses(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_interval(text)


def test_intervals_adapt_between_bounds() -> None:
    hour = 3600
    assert next_interval(hour, configured=hour, new_entries=5, failed=False, error_count=0) == 2700
    assert next_interval(1800, configured=hour, new_entries=5, failed=False, error_count=0) == 1800
    assert next_interval(hour, configured=hour, new_entries=0, failed=False, error_count=0) > hour
    assert (
        next_interval(4 * hour, configured=hour, new_entries=0, failed=False, error_count=0)
        == 4 * hour
    )
    backoff = [
        next_interval(hour, configured=hour, new_entries=0, failed=True, error_count=n)
        for n in (1, 2, 3)
    ]
    assert backoff == [2 * hour, 4 * hour, 8 * hour]
    assert (
        next_interval(hour, configured=hour, new_entries=0, failed=True, error_count=50)
        == MAX_INTERVAL
    )
    assert (
        next_interval(10, configured=10, new_entries=9, failed=False, error_count=0) == MIN_INTERVAL
    )


def test_feed_hints_push_the_next_crawl_later() -> None:
    now = datetime(2021, 4, 2, tzinfo=UTC)
    assert next_due(now, 600, FetchHints()) == now + timedelta(seconds=600)
    assert next_due(now, 600, FetchHints(ttl_minutes=60)) == now + timedelta(hours=1)
    assert next_due(now, 600, FetchHints(max_age=7200)) == now + timedelta(hours=2)
    assert next_due(now, 600, FetchHints(retry_after=120)) == now + timedelta(seconds=600)
    assert next_due(now, 60, FetchHints(retry_after=300)) == now + timedelta(seconds=300)


def test_header_parsing() -> None:
    assert parse_cache_control("public, max-age=300") == 300
    assert parse_cache_control("no-cache") is None
    assert parse_retry_after("120") == 120
    now = datetime(2021, 4, 2, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Fri, 02 Apr 2021 12:02:00 GMT", now) == 120
    assert parse_retry_after("whenever", now) is None


def test_opml_round_trip_with_folders() -> None:
    document = """<?xml version="1.0"?>
    <opml version="1.0"><head><title>x</title></head><body>
      <outline text="News"><outline text="36kr" xmlUrl="https://rsshub.app/36kr/news/latest"
        htmlUrl="https://36kr.com" category="/资讯"/></outline>
      <outline type="rss" title="Blog" xmlUrl="https://example.com/feed.xml"/>
      <outline text="no feed"/>
    </body></opml>""".encode()
    subs = parse_opml(document)
    assert subs == [
        Subscription(
            "https://rsshub.app/36kr/news/latest", "36kr", ("News", "资讯"), "https://36kr.com"
        ),
        Subscription("https://example.com/feed.xml", "Blog", (), None),
    ]
    assert parse_opml(write_opml(subs).encode()) == subs
    with pytest.raises(ConfigurationError):
        parse_opml(b"<html><body/></html>")


# -- the commands, against the mock site ------------------------------------------------------

FEEDS = ["/feeds/rss2.xml", "/feeds/atom10.xml", "/feeds/jsonfeed11.json"]


def add_sources(db: str, site: Any) -> None:
    for path in FEEDS:
        added = run_archiver("--db", db, "sources", "add", site.url(path), "--every", "1h")
        assert added.returncode == 0, added.stderr
        assert added.stdout.startswith("Added ")


def feed_requests(site: Any) -> list[dict[str, Any]]:
    paths = set(FEEDS)
    return [r for r in site.requests() if r["path"].split("?")[0] in paths]


def test_sources_add_list_remove(mock_site: Any, db_url: str) -> None:
    result = run_archiver(
        "--db", db_url, "sources", "add", mock_site.url("/feeds/rss2.xml"), "--name", "rss2",
        "--every", "30m", "--category", "新媒体", "--timezone", "Asia/Shanghai",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rss feed" in result.stdout
    listed = run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    assert [(s["name"], s["crawl_interval"], s["categories"]) for s in listed] == [
        ("rss2", 1800, ["新媒体"])
    ]
    removed = run_archiver("--db", db_url, "sources", "remove", "rss2")
    assert removed.returncode == 0
    assert run_archiver("--db", db_url, "sources", "list", "--format", "json").json() == []
    assert (
        len(run_archiver("--db", db_url, "sources", "list", "--all", "--format", "json").json())
        == 1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "add", "gopher://x/feed"], "unsupported URL scheme"),
        (["sources", "add", "http://127.0.0.1:9/feed", "--every", "often"], "not an interval"),
        (["sources", "remove", "nothing"], "no source 'nothing'"),
        (["run", "--all", "--due"], "one of --due, --all and --source"),
    ],
)
def test_source_command_errors(db_url: str, args: list[str], message: str) -> None:
    result = run_archiver("--db", db_url, *args)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_adding_an_unreachable_or_non_feed_url_fails(mock_site: Any, db_url: str) -> None:
    result = run_archiver("--db", db_url, "sources", "add", mock_site.url("/broken/404.xml"))
    assert result.returncode == 1
    assert "cannot fetch" in result.stderr
    result = run_archiver("--db", db_url, "sources", "add", mock_site.url("/broken/empty.xml"))
    assert result.returncode == 1


def test_due_runs_and_conditional_requests(mock_site: Any, db_url: str) -> None:
    add_sources(db_url, mock_site)
    mock_site.reset_log()
    first = run_archiver("--db", db_url, "run", "--due", "--no-images")
    assert first.returncode == 0, first.stderr
    assert "3 sources" in first.stdout
    assert len(feed_requests(mock_site)) == 3

    mock_site.reset_log()
    second = run_archiver("--db", db_url, "run", "--due")
    assert second.returncode == 0
    assert "Nothing is due." in second.stdout
    assert mock_site.requests() == []  # an immediate second run makes no request at all

    mock_site.reset_log()
    again = run_archiver("--db", db_url, "run", "--all", "--no-images")
    assert again.returncode == 0, again.stderr
    assert "3 not modified" in again.stdout
    requests = feed_requests(mock_site)
    assert len(requests) == 3
    for request in requests:
        headers = request["headers"]
        assert "if-none-match" in headers or "if-modified-since" in headers
        assert request["status"] == 304
    assert [r["path"] for r in mock_site.requests() if r not in requests] in ([], ["/robots.txt"])

    runs = run_archiver("--db", db_url, "runs", "--format", "json").json()
    assert [r["command"] for r in runs] == ["run", "run"]
    assert runs[0]["not_modified"] == 3
    assert runs[1]["new"] > 0


def test_overlapping_runs_crawl_each_source_once(
    mock_site: Any, db_url: str, tmp_path: Path
) -> None:
    add_sources(db_url, mock_site)
    mock_site.reset_log()
    media = str(tmp_path / "media")  # the entries' pages are captured beside it, not in the clone
    command = [
        sys.executable, "-m", "archiver", "--db", db_url, "--media", media,
        "run", "--due", "--no-images",
    ]  # fmt: skip
    runs = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    counts: dict[str, int] = {}
    for request in feed_requests(mock_site):
        counts[request["path"]] = counts.get(request["path"], 0) + 1
    assert counts == dict.fromkeys(FEEDS, 1)


def test_a_killed_runs_lease_expires(db_url: str) -> None:
    archive = Archive(db_url)
    try:
        source, _ = archive.sources.schedule("http://127.0.0.1:9/f.xml", kind="rss", interval=3600)
        assert archive.leases.acquire([source.id], "killed-run", seconds=1) == [source.id]
        assert archive.leases.acquire([source.id], "other-run", seconds=60) == []
        time.sleep(1.2)
        assert archive.leases.acquire([source.id], "other-run", seconds=60) == [source.id]
    finally:
        archive.close()


def test_a_worker_leases_a_source_only_while_it_is_due(db_url: str) -> None:
    """``due_only`` rechecks in the UPDATE itself: a source another worker recorded and
    released since ``claimable_sources`` found it is not leased (and crawled) again."""
    archive = Archive(db_url)
    try:
        source, _ = archive.sources.schedule("http://127.0.0.1:9/f.xml", kind="rss", interval=3600)
        assert [s.id for s in archive.sources.claimable(10)] == [source.id]
        # Meanwhile another worker leases, records and releases it: due in an hour.
        assert archive.leases.acquire([source.id], "other/1", 60, due_only=True) == [source.id]
        archive.sources.record_fetch(source.id, status="ok")
        archive.leases.release("other/1")
        assert archive.leases.acquire([source.id], "late/1", 60, due_only=True) == []
        assert archive.sources.claimable(10) == []
        # `run --all` leases it anyway, on purpose.
        assert archive.leases.acquire([source.id], "run", 60) == [source.id]
        archive.leases.release("run")
        archive.sources.unschedule(str(source.id))  # no next due time, disabled: not due
        assert archive.leases.acquire([source.id], "late/1", 60, due_only=True) == []
    finally:
        archive.close()


def test_failing_source_backs_off_and_others_go_on(mock_site: Any, db_url: str) -> None:
    add_sources(db_url, mock_site)
    broken = mock_site.url("/broken/500.xml")
    run_archiver("--db", db_url, "sources", "add", broken, "--name", "broken", "--no-check")
    result = run_archiver("--db", db_url, "run", "--due", "--no-images")
    assert result.returncode == 1
    assert "HTTP 500" in result.stdout
    listed = {
        s["name"]: s
        for s in run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    }
    assert listed["broken"]["last_status"] == "failed"
    assert listed["broken"]["error_count"] == 1
    assert listed["broken"]["current_interval"] == 7200  # backed off
    others = [s for name, s in listed.items() if name != "broken"]
    assert all(s["last_status"] == "ok" for s in others)


def test_opml_import_and_export(mock_site: Any, db_url: str) -> None:
    imported = run_archiver("--db", db_url, "sources", "import", "-", "--every", "2h")
    assert imported.returncode == 2  # empty stdin is not OPML: one line, no traceback
    assert "not an OPML file" in imported.stderr
    path = Path(db_url.removeprefix("sqlite:///")).parent / "feeds.opml"
    path.write_bytes(mock_site.get("/feeds.opml").body)
    result = run_archiver("--db", db_url, "sources", "import", str(path))
    assert result.returncode == 0, result.stderr
    exported = run_archiver("--db", db_url, "sources", "export")
    assert exported.returncode == 0
    assert parse_opml(exported.stdout.encode())
    assert len(parse_opml(exported.stdout.encode())) == len(parse_opml(path.read_bytes()))


def test_run_forever_stops_cleanly_on_sigterm(mock_site: Any, db_url: str) -> None:
    import signal

    add_sources(db_url, mock_site)
    process = start_archiver("--db", db_url, "run", "--forever", "--no-images")
    try:
        archive = Archive(db_url)
        try:
            wait_until(lambda: [r for r in archive.runs.recent() if r.status != "running"], 60, 0.3)
            assert [r.command for r in archive.runs.recent()] == ["run"]
        finally:
            archive.close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr


def due_in(db: str, name: str) -> float:
    """Seconds from the source's last crawl to its next one: measured from when it was
    recorded, not from now, so a slow machine after the crawl changes nothing."""
    source = next(
        s
        for s in run_archiver("--db", db, "sources", "list", "--format", "json").json()
        if s["name"] == name
    )
    due = datetime.fromisoformat(source["next_due_at"].replace("Z", "+00:00"))
    crawled = datetime.fromisoformat(source["last_crawled_at"].replace("Z", "+00:00"))
    return (due - crawled).total_seconds()


def test_server_hints_push_the_next_crawl_later(mock_site: Any, db_url: str) -> None:
    mock_site.reset()
    for name, path in (
        ("max-age", "/cache/max-age.xml"),  # max-age=3600, ttl 60 minutes
        ("too-many", "/cache/429.xml?retry_after=20000"),
        ("plain", "/feeds/atom10.xml"),
    ):
        run_archiver(
            "--db", db_url, "sources", "add", mock_site.url(path), "--name", name,
            "--every", "10m", "--no-check",
        )  # fmt: skip
    result = run_archiver("--db", db_url, "run", "--due", "--no-images")
    assert result.returncode == 1  # the 429 source failed
    assert "HTTP 429" in result.stdout
    assert 3500 < due_in(db_url, "max-age") <= 3600
    assert 19_900 < due_in(db_url, "too-many") <= 20_000  # Retry-After beats the back-off
    assert 440 < due_in(db_url, "plain") <= 450  # new entries: 10 minutes, a quarter sooner
    assert len(mock_site.requests("/cache/429.xml")) == 1  # a 429 is not retried at once


def test_adding_a_page_that_announces_feeds_names_them(mock_site: Any, db_url: str) -> None:
    result = run_archiver("--db", db_url, "sources", "add", mock_site.url("/"))
    assert result.returncode == 1
    assert "announces feeds; add one of them:" in result.stderr
    assert mock_site.url("/feeds/rss2.xml") in result.stderr


def test_an_rsshub_route_follows_its_instance(mock_site: Any, db_url: str) -> None:
    """A source given as a route is kept as the route and fetched from ARCHIVER_RSSHUB_URL
    at each crawl: moving to another instance keeps the source and its articles."""
    first = {"ARCHIVER_RSSHUB_URL": mock_site.url("/rsshub")}
    added = run_archiver(
        "--db", db_url, "sources", "add", "rsshub:36kr/news/latest", "--name", "36kr",
        "--every", "1h", env=first,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "RSSHub route, " in added.stdout
    (listed,) = run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    assert (listed["url"], listed["kind"]) == ("rsshub:/36kr/news/latest", "rsshub")

    mock_site.reset_log()
    ran = run_archiver("--db", db_url, "run", "--all", "--no-images", env=first)
    assert ran.returncode == 0, ran.stderr
    assert [r["path"] for r in mock_site.requests("/rsshub/36kr/news/latest")] == [
        "/rsshub/36kr/news/latest"
    ]
    rows = run_archiver("--db", db_url, "search", "--format", "json").json()
    assert rows
    assert {r["source_url"] for r in rows} == {"rsshub:/36kr/news/latest"}

    # Another instance (this server under another name, so a host the source did not
    # name before): the same source, a conditional request, no new article.
    moved = {"ARCHIVER_RSSHUB_URL": mock_site.url("/rsshub").replace("127.0.0.1", "localhost")}
    mock_site.reset_log()
    again = run_archiver("--db", db_url, "run", "--all", "--no-images", env=moved)
    assert again.returncode == 0, again.stderr
    (request,) = mock_site.requests("/rsshub/36kr/news/latest")
    assert request["headers"].get("host", "").startswith("localhost:")
    assert request["status"] == 304
    assert len(run_archiver("--db", db_url, "search", "--format", "json").json()) == len(rows)

    bad = run_archiver(
        "--db", db_url, "run", "--all", env={"ARCHIVER_RSSHUB_URL": "rsshub.example"}
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "Error: ARCHIVER_RSSHUB_URL 'rsshub.example' is not an http(s) URL of an RSSHub instance"
        " (see 'archiver run -h')"
    ]


SHORT_LEASES = {"ARCHIVER_LEASE_SECONDS": "2"}
"""Leases of 2 s, for a feed that takes 6 s (``add_slow_source``)."""


def add_slow_source(db_url: str, mock_site: Any) -> None:
    """A scheduled source ``slow`` whose feed takes 6 s to answer; the request log emptied."""
    slow = mock_site.url("/feeds/rss2.xml?delay=6")
    added = run_archiver(
        "--db", db_url, "sources", "add", slow, "--name", "slow", "--no-check", "--every", "1h"
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    mock_site.reset_log()


def check_slow_source_is_still_taken(db_url: str, mock_site: Any) -> None:
    """Once the slow feed is being fetched and its first lease would have run out, a run
    finds the source taken (its lease was renewed)."""
    wait_until(lambda: mock_site.requests("/feeds/rss2.xml"))
    time.sleep(2.5)  # past the first lease of 2 s
    other = run_archiver("--db", db_url, "run", "--source", "slow", env=SHORT_LEASES)
    assert other.returncode == 0, other.stderr
    assert "every chosen source is being crawled by another run" in other.stdout


def test_a_run_longer_than_its_leases_keeps_them(
    mock_site: Any, db_url: str, tmp_path: Path
) -> None:
    """The run renews its leases, so a run started after they would have expired still
    finds the source taken, and the feed is fetched once."""
    add_slow_source(db_url, mock_site)
    first = start_archiver(
        "--db", db_url, "run", "--source", "slow", "--no-images", cwd=tmp_path, env=SHORT_LEASES
    )
    try:
        check_slow_source_is_still_taken(db_url, mock_site)
        assert first.poll() is None  # the first run is still at it
        out, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert "1 source" in out
    assert len(mock_site.requests("/feeds/rss2.xml")) == 1
    (source,) = run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    assert source["last_status"] == "ok"


def test_a_feed_gone_for_good_is_taken_off_the_schedule(mock_site: Any, db_url: str) -> None:
    gone = mock_site.url("/broken/410.xml")
    added = run_archiver("--db", db_url, "sources", "add", gone, "--name", "gone", "--no-check")
    assert added.returncode == 0, added.stderr
    ran = run_archiver("--db", db_url, "run", "--all")
    assert ran.returncode == 1
    assert "HTTP 410" in ran.stdout
    assert "gone for good, so taken off the schedule" in ran.stdout
    assert run_archiver("--db", db_url, "sources", "list", "--format", "json").json() == []
    (kept,) = run_archiver("--db", db_url, "sources", "list", "--all", "--format", "json").json()
    assert kept["name"] == "gone"
    mock_site.reset_log()
    assert "Nothing is due." in run_archiver("--db", db_url, "run", "--due").stdout
    assert mock_site.requests("/broken/410.xml") == []


def test_a_feed_that_moved_for_good_is_fetched_where_it_moved(mock_site: Any, db_url: str) -> None:
    """A permanent redirect (301/308) is followed once: the source keeps its URL (its
    identity) and is fetched at the new address afterwards; a temporary one is not kept."""
    moved = mock_site.url("/redirect/feed.xml")  # 301 to /feeds/rss2.xml
    detour = mock_site.url("/redirect/chain.xml")  # 302, then 307, to /feeds/atom10.xml
    for url, name in ((moved, "moved"), (detour, "detour")):
        added = run_archiver("--db", db_url, "sources", "add", url, "--name", name, "--no-check")
        assert added.returncode == 0, added.stderr
    mock_site.reset_log()
    first = run_archiver("--db", db_url, "run", "--all", "--no-images")
    assert first.returncode == 0, first.stderr
    assert len(mock_site.requests("/redirect/feed.xml")) == 1
    listed = {
        s["name"]: s
        for s in run_archiver("--db", db_url, "sources", "list", "--format", "json").json()
    }
    assert (listed["moved"]["url"], listed["moved"]["fetch_url"]) == (
        moved,
        mock_site.url("/feeds/rss2.xml"),
    )
    assert listed["detour"]["fetch_url"] is None

    mock_site.reset_log()
    again = run_archiver("--db", db_url, "run", "--all", "--no-images")
    assert again.returncode == 0, again.stderr
    assert mock_site.requests("/redirect/feed.xml") == []
    (direct,) = mock_site.requests("/feeds/rss2.xml")
    assert direct["status"] == 304  # fetched where it moved, conditionally
    assert len(mock_site.requests("/redirect/chain.xml")) == 1  # a detour is taken each time
    assert "0 new" in again.stdout

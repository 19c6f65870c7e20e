"""Crawls of the mock site through the real ``archiver`` command, into a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, Result, run_archiver
from tests.mocksite.bigsite import big_feed_paths

FORMAT_FEEDS = [
    "/feeds/rss2.xml",
    "/feeds/rss1.rdf",
    "/feeds/rss091.xml",
    "/feeds/rss092.xml",
    "/feeds/atom10.xml",
    "/feeds/atom03.xml",
    "/feeds/jsonfeed1.json",
    "/feeds/jsonfeed11.json",
    "/feeds/summary-only.xml",
    "/feeds/relative-links.xml",
    "/feeds/xml-base.atom",
    "/rsshub/36kr/news/latest",
]


def crawl(db: str, *urls: str, extra: tuple[str, ...] = ()) -> Result:
    return run_archiver("--db", db, "crawl", "--no-images", *extra, *urls)


def search_all(db: str) -> list[dict[str, Any]]:
    result = run_archiver("--db", db, "search", "--limit", "100000", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    return rows


def show(db: str, ident: str | int) -> dict[str, Any]:
    result = run_archiver("--db", db, "show", str(ident), "--format", "json")
    assert result.returncode == 0, result.stderr
    article: dict[str, Any] = result.json()
    return article


def table_counts(db: str) -> dict[str, int]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"select count(*) from {table}")).scalar_one()
                for table in ("articles", "sources", "revisions", "article_categories", "tags")
            }
    finally:
        engine.dispose()


def test_every_format_is_archived_once(mock_site: Any, db_url: str) -> None:
    urls = [mock_site.url(p) for p in FORMAT_FEEDS]
    first = crawl(db_url, *urls)
    assert first.returncode == 0, first.stderr
    assert f"{len(urls)} sources in" in first.stdout
    assert " 0 failed" in first.stdout
    rows = search_all(db_url)
    outcomes = run_archiver("--db", db_url, "runs", "--format", "json").json()[0]["sources"]
    for url in urls:  # every feed was read and gave entries
        assert outcomes[url]["status"] == "ok", (url, outcomes[url])
        assert outcomes[url]["entries"] > 0, url
    for row in rows:
        assert row["published"] is None or row["published"].endswith("Z")
    counts = table_counts(db_url)

    seen = sum(o["new"] + o["updated"] + o["unchanged"] for o in outcomes.values())
    assert len(rows) == sum(o["new"] for o in outcomes.values())

    again = crawl(db_url, *urls)
    assert again.returncode == 0, again.stderr
    assert f" 0 new, 0 updated, {seen} unchanged, 0 failed" in again.stdout
    assert table_counts(db_url) == counts


@pytest.mark.parametrize("path", ["/fidelity/rss.xml", "/fidelity/atom.xml", "/fidelity/feed.json"])
def test_content_is_archived_byte_for_byte(mock_site: Any, db_url: str, path: str) -> None:
    # The feed's own body, so no page: what a page merged in keeps is tested in test_pages_crawl
    result = crawl(db_url, mock_site.url(path), extra=("--full-text", "never"))
    assert result.returncode == 0, result.stderr
    expected: dict[str, str] = mock_site.get("/fidelity/expected.json").json()
    rows = search_all(db_url)
    assert len(rows) == len(expected)
    for row in rows:
        article = show(db_url, row["id"])
        assert article["content_html"] == expected[article["guid_raw"]], article["url"]


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/encoding/gbk.xml", "堃"),
        ("/encoding/gb2312-with-gbk-chars.xml", "喆"),
        ("/encoding/big5.xml", "臺北的早晨"),
        ("/encoding/utf8-bom.xml", "。"),
        ("/encoding/charset-in-header-only.xml", "王堃"),
    ],
)
def test_encodings(mock_site: Any, db_url: str, path: str, needle: str) -> None:
    result = crawl(db_url, mock_site.url(path))
    assert result.returncode == 0, result.stderr
    rows = search_all(db_url)
    assert rows
    text_seen = " ".join((r["title"] or "") + show(db_url, r["id"])["content_text"] for r in rows)
    assert needle in text_seen
    assert "\ufffd" not in text_seen


def test_broken_sources_are_recorded_and_the_rest_archived(mock_site: Any, db_url: str) -> None:
    good = mock_site.url("/feeds/rss2.xml")
    broken = {
        "/broken/404.xml": "HTTP 404",
        "/broken/html-as-feed.xml": "",
        "/broken/empty.xml": "",
        "/broken/bad.json": "",
        "/redirect/loop.xml": "",
    }
    partial = mock_site.url("/broken/not-well-formed.xml")
    urls = [good, partial, *(mock_site.url(p) for p in broken)]
    result = crawl(db_url, *urls)
    assert result.returncode == 1
    assert f"{len(broken)} sources failed" in result.stdout
    assert "HTTP 404" in result.stdout
    assert "Traceback" not in result.stderr
    runs = run_archiver("--db", db_url, "runs", "--format", "json").json()
    outcomes = runs[0]["sources"]
    assert runs[0]["status"] == "partial"
    assert outcomes[good]["status"] == "ok"
    assert outcomes[partial]["status"] == "partial"
    assert outcomes[partial]["error"]
    assert outcomes[partial]["entries"] >= 3  # what could be recovered was read
    for path in broken:
        assert outcomes[mock_site.url(path)]["status"] == "failed"
        assert outcomes[mock_site.url(path)]["error"]
    assert any(r["source_url"] == good for r in search_all(db_url))


def test_changed_entry_is_updated_with_a_revision(mock_site: Any, db_url: str) -> None:
    feed = mock_site.url("/changing/rss.xml")
    mock_site.reset()
    try:
        assert crawl(db_url, feed).returncode == 0
        before = {r["url"]: r["id"] for r in search_all(db_url)}
        mock_site.bump_changing()
        second = crawl(db_url, feed)
        assert second.returncode == 0
        assert " 1 new, 1 updated, 2 unchanged" in second.stdout
        after = search_all(db_url)
        assert len(after) == len(before) + 1
        revised = [show(db_url, r["id"]) for r in after if show(db_url, r["id"])["revisions"]]
        assert len(revised) == 1
    finally:
        mock_site.reset()


def test_categories_and_timezone_from_the_command_line(mock_site: Any, db_url: str) -> None:
    feed = mock_site.url("/rsshub/36kr/news/latest")
    result = crawl(
        db_url,
        feed,
        extra=("--category", "新媒体", "--category", "36kr", "--timezone", "Asia/Shanghai"),
    )
    assert result.returncode == 0, result.stderr
    for row in search_all(db_url):
        assert row["categories"][:2] == ["新媒体", "36kr"]


def test_a_page_is_followed_to_its_feed(mock_site: Any, db_url: str) -> None:
    result = crawl(db_url, mock_site.url("/"))
    assert result.returncode == 0, result.stderr
    assert search_all(db_url)


def test_the_shipped_sample_feed_offline(tmp_path: Path) -> None:
    result = run_archiver(
        "crawl", str(ROOT / "archiver" / "samples" / "sample-feed.xml"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "3 new" in result.stdout
    assert "2 images" in result.stdout
    assert "1 unreadable date" in result.stdout
    assert (tmp_path / "archive.db").exists()


def test_scrapy_crawl_from_the_repository_root(mock_site: Any, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ARCHIVER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}",
        "ARCHIVER_MEDIA_DIR": str(tmp_path / "media"),  # and the captures beside it
    }
    listed = subprocess.run(
        [sys.executable, "-m", "scrapy", "list"], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "feed" in listed.stdout.split()
    crawled = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "feed",
         "-a", f"url={mock_site.url('/feeds/atom10.xml')}", "-s", "ARCHIVER_IMAGES_ENABLED=False"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert crawled.returncode == 0, crawled.stderr
    assert search_all(f"sqlite:///{tmp_path / 'a.db'}")


def test_big_site_is_archived_exactly_once(mock_site: Any, db_url: str) -> None:
    """The issue's acceptance check: ~1000 articles over 20 feeds of all three formats."""
    urls = [mock_site.url(p) for p in big_feed_paths()]
    first = crawl(db_url, *urls)
    assert first.returncode == 0, first.stderr
    rows = search_all(db_url)
    assert len(rows) == 1000
    assert len({r["url"] for r in rows}) == 1000
    assert all(r["published"] and r["published"].endswith("Z") for r in rows)
    counts = table_counts(db_url)
    again = crawl(db_url, *urls)
    assert again.returncode == 0
    assert " 0 new, 0 updated, 1000 unchanged" in again.stdout
    assert table_counts(db_url) == counts


def test_progress_on_a_terminal(mock_site: Any, tmp_path: Path) -> None:
    """On a terminal, a crawl redraws a progress line on stderr; the summary is on stdout."""
    import pty

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "archiver", "--db", str(tmp_path / "a.db"),
             "--media", str(tmp_path / "media"), "crawl", "--no-images",
             mock_site.url("/slow/rss.xml?delay=2")],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=follower, text=True,
        )  # fmt: skip
        stdout, _ = process.communicate(timeout=120)
        os.close(follower)
        follower = -1
        terminal = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            terminal += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    assert process.returncode == 0
    assert "1 source in" in stdout
    assert b"\r0 sources, 0 new" in terminal  # drawn while the feed was on its way


@pytest.mark.postgres
def test_crawl_into_postgresql(mock_site: Any, postgres_url: str, tmp_path: Path) -> None:
    urls = [mock_site.url("/feeds/rss2.xml"), mock_site.url("/feeds/jsonfeed11.json")]
    media = str(tmp_path / "media")
    first = run_archiver("--db", postgres_url, "--media", media, "crawl", *urls)
    assert first.returncode == 0, first.stderr
    rows = search_all(postgres_url)
    assert rows
    again = run_archiver("--db", postgres_url, "--media", media, "crawl", *urls)
    assert " 0 new, 0 updated" in again.stdout
    assert len(search_all(postgres_url)) == len(rows)
    article = show(postgres_url, rows[0]["id"])
    assert article["images"]
    assert all(i["status"] in ("downloaded", "failed") for i in article["images"])


def test_crawl_an_rsshub_route(mock_site: Any, db_url: str) -> None:
    route = "rsshub:/36kr/news/latest"
    done = run_archiver(
        "--db", db_url, "crawl", "--no-images", "rsshub:36kr/news/latest",
        env={"ARCHIVER_RSSHUB_URL": mock_site.url("/rsshub")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    outcome = run_archiver("--db", db_url, "runs", "--format", "json").json()[0]["sources"][route]
    assert (outcome["kind"], outcome["status"]) == ("rsshub", "ok")
    assert outcome["new"] == outcome["entries"] > 0
    assert {row["source_url"] for row in search_all(db_url)} == {route}


def test_an_rsshub_access_key_is_never_kept_or_shown(mock_site: Any, db_url: str) -> None:
    instance = {"ARCHIVER_RSSHUB_URL": mock_site.url("/rsshub") + "?key=s3cret-key"}
    done = run_archiver(
        "--db", db_url, "crawl", "--no-images", "rsshub:/36kr/news/latest",
        "rsshub:/no/such/route", env=instance,
    )  # fmt: skip
    assert done.returncode == 1  # the route that does not exist failed
    sent = mock_site.requests("/rsshub/36kr/news/latest")
    assert sent[-1]["path"].endswith("?key=s3cret-key")  # the key was sent
    shown = [done.stdout, done.stderr]
    shown.append(run_archiver("--db", db_url, "runs", "--format", "json").stdout)
    for row in search_all(db_url):
        shown.append(
            run_archiver("--db", db_url, "show", str(row["id"]), "--format", "json").stdout
        )
    assert [t for t in shown if "s3cret" in t] == []
    error = run_archiver("--db", db_url, "runs", "--format", "json").json()[0]["sources"]
    assert "HTTP 404" in error["rsshub:/no/such/route"]["error"]


def test_a_feed_larger_than_the_limit_is_refused_not_read(mock_site: Any, db_url: str) -> None:
    huge = mock_site.url("/broken/huge-feed.xml?mb=3")
    small = mock_site.url("/feeds/rss2.xml")
    done = run_archiver(
        "--db", db_url, "crawl", "--no-images", huge, small,
        env={"ARCHIVER_MAX_DOCUMENT_BYTES": "1000000"},
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    outcome = run_archiver("--db", db_url, "runs", "--format", "json").json()[0]["sources"]
    assert outcome[huge]["status"] == "failed"
    assert "larger than download max size (1000000)" in outcome[huge]["error"]
    assert outcome[small]["status"] == "ok"  # the other source is archived


def test_the_summary_counts_images_not_archived_and_not_due() -> None:
    from datetime import UTC, datetime

    from archiver.crawling.runner import CrawlResult, summary_line
    from archiver.storage import RunRecord

    now = datetime(2026, 1, 1, tzinfo=UTC)
    run = RunRecord(id=1, command="crawl", status="ok", started_at=now, finished_at=now, new=2,
                    updated=0, unchanged=0, failed=0, not_modified=0, images=3, bytes=2048,
                    sources={"https://a.example/feed": {"status": "ok"}})  # fmt: skip
    stats = {"archiver/images/failed": 1, "archiver/images/deferred": 4}
    assert summary_line(CrawlResult(run=run, seconds=1.25, stats=stats)) == (
        "1 source in 1.2s: 2 new, 0 updated, 0 unchanged, 0 failed, 3 images (2.0 KB), "
        "1 image not archived, 4 failed images not due again yet"
    )


def test_a_crawl_imports_nothing_for_what_it_turned_off(mock_site: Any, tmp_path: Path) -> None:
    """Scrapy's remote control and cookies middleware are off, and not even imported (with
    them, aiohttp and tldextract: a few tenths of a second of every crawl's start-up); a
    crawl that extracts no page starts no extraction process (nor multiprocessing's
    resource tracker, a Python of its own)."""
    url = mock_site.url(big_feed_paths(1)[0])
    result = run_archiver(
        "--db", str(tmp_path / "a.db"), "crawl", "--no-images", "--full-text", "never", url,
        env={"PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    imported = {line.rsplit("|", 1)[-1].strip() for line in lines}
    assert "scrapy.core.engine" in imported  # the crawl's imports are the ones listed
    assert not imported & {"aiohttp", "tldextract", "scrapy.extensions.remote_control"}
    interpreters = [line for line in lines if line.rsplit("|", 1)[-1].strip() == "site"]
    assert len(interpreters) == 1  # each Python started imports site, and lists it here

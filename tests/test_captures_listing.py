"""Every capture an article was read from: its feed's (or sitemap's) records from the one that
first gave it to the last that still held it, and its page's, oldest first; through the real
command, the reader, and the store's two ways of writing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archiver.captures.warc import read_record
from archiver.items import ArticleItem, CaptureRecord
from archiver.storage import Archive
from archiver.storage.records import SearchFilters
from archiver.web import ReaderConfig, create_app
from tests.conftest import archiver_env
from tests.test_captures_crawl import archiver, index_rows
from tests.test_storage import make_item

Kinds = list[tuple[str, str]]


def show(tmp_path: Path, article: int | str) -> dict[str, Any]:
    shown: dict[str, Any] = archiver(tmp_path, "show", str(article), "--format", "json").json()
    return shown


def kinds(captures: list[dict[str, Any]]) -> Kinds:
    return [(c["kind"], c["record_type"]) for c in captures]


def raw_capture(tmp_path: Path, article: int) -> bytes:
    completed = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "archive.db"),
         "--media", str(tmp_path / "media"), "show", str(article), "--capture"],
        capture_output=True, env=archiver_env(), check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def set_sources(tmp_path: Path, assignments: str) -> None:
    with sqlite3.connect(tmp_path / "archive.db") as db:
        db.execute(f"UPDATE sources SET {assignments}")


def reader_article(tmp_path: Path, article: int) -> tuple[dict[str, Any], str]:
    """The article as the reader's JSON API gives it, and its page's HTML."""
    config = ReaderConfig(
        database_url=f"sqlite:///{tmp_path / 'archive.db'}", media_dir=tmp_path / "media"
    )
    with TestClient(create_app(config)) as client:
        api = client.get(f"/api/articles/{article}")
        page = client.get(f"/articles/{article}")
    assert api.status_code == 200, api.text
    assert page.status_code == 200, page.text
    return api.json(), page.text


def test_a_feed_only_article_lists_its_feed_records_up_to_the_revisit_of_an_unchanged_poll(
    mock_site: Any, tmp_path: Path
) -> None:
    feed = mock_site.url("/whole/full.xml")
    archiver(tmp_path, "crawl", "--full-text", "never", feed)
    (found,) = archiver(tmp_path, "search", "--format", "json").json()
    first = show(tmp_path, found["id"])
    assert kinds(first["captures"]) == [("feed", "response")]
    (record,) = archiver(tmp_path, "captures", feed, "--format", "json").json()
    assert first["captures"][0]["id"] == record["id"]
    assert first["captures"][0]["url"] == feed

    # Scheduled now: the feed's validators match, it answers 304, nothing is written and the
    # article is not seen again.
    set_sources(tmp_path, "crawl_interval = 1800, current_interval = 1800")
    archiver(tmp_path, "run", "--all", "--full-text", "never")
    unchanged = show(tmp_path, found["id"])
    assert unchanged["captures"] == first["captures"]
    assert unchanged["last_seen"] == first["last_seen"]

    # Validators forgotten (a server that sends none): the feed comes whole, same payload, a
    # revisit; the article, unchanged, is seen again and read from it.
    set_sources(tmp_path, "etag = NULL, last_modified = NULL")
    archiver(tmp_path, "run", "--all", "--full-text", "never")
    again = show(tmp_path, found["id"])
    records = archiver(tmp_path, "captures", feed, "--format", "json").json()
    assert [r["record_type"] for r in records] == ["revisit", "response"]  # newest first
    assert kinds(again["captures"]) == [("feed", "response"), ("feed", "revisit")]
    assert [c["id"] for c in again["captures"]] == [r["id"] for r in reversed(records)]
    assert again["first_seen"] == first["first_seen"]
    assert again["last_seen"] > first["last_seen"]
    assert again["captures"][1]["fetched_at"] < again["last_seen"]

    # show --capture prints the last record that held it: the revisit's own headers, the
    # payload of the response it repeats.
    revisit = again["captures"][1]
    _, headers, _ = read_record(tmp_path / "captures", revisit["warc_file"], revisit["offset"])
    head, _, payload = raw_capture(tmp_path, found["id"]).partition(b"\r\n\r\n")
    assert payload == mock_site.get("/whole/full.xml").body
    date = next(value for name, value in headers if name.lower() == "date")
    assert f"Date: {date}".encode() in head.split(b"\r\n")

    # The reader's JSON and its article page say the same.
    api, page = reader_article(tmp_path, found["id"])
    assert api["captures"] == again["captures"]
    assert "2 WARC records read from" in page
    assert 'capture-feed">feed: 2</span>' in page


def test_an_article_lists_only_the_polls_of_its_feed_that_held_it(
    mock_site: Any, tmp_path: Path
) -> None:
    """The changing feed: v1 holds A, B, C; v2 adds D; v3 and later drop B."""
    feed = mock_site.url("/changing/rss.xml")
    try:
        for version in (1, 2, 3, 4):
            mock_site.set_changing_version(version)
            archiver(tmp_path, "crawl", "--full-text", "never", feed)
    finally:
        mock_site.reset()
    polls = [row["id"] for row in index_rows(tmp_path) if row["url"] == feed]
    assert len(polls) == 4
    articles = archiver(tmp_path, "search", "--format", "json").json()
    listed = {}
    for article in articles:
        shown = show(tmp_path, article["id"])
        assert {c["kind"] for c in shown["captures"]} == {"feed"}
        listed[shown["guid"]] = [c["id"] for c in shown["captures"]]
    by_letter = {guid.rsplit("-", 1)[-1]: ids for guid, ids in listed.items()}
    assert by_letter == {"a": polls, "b": polls[:2], "c": polls, "d": polls[1:]}


def test_an_article_from_a_page_or_a_sitemap_lists_the_feed_or_sitemap_and_its_page(
    mock_site: Any, tmp_path: Path
) -> None:
    feed = mock_site.url("/whole/summary.atom")
    sitemap = mock_site.url("/sitemaps/news.xml")
    archiver(tmp_path, "crawl", "--no-images", feed, sitemap)
    rows = {row["id"]: row for row in index_rows(tmp_path)}
    articles = archiver(tmp_path, "search", "--format", "json", "--limit", "50").json()
    assert {a["source_url"] for a in articles} == {feed, sitemap}
    for article in articles:
        shown = show(tmp_path, article["id"])
        captures = shown["captures"]
        listing = "feed" if article["source_url"] == feed else "sitemap"
        assert kinds(captures) == [(listing, "response"), ("page", "response")], article["url"]
        assert captures[0]["url"] == article["source_url"]
        assert captures[0]["fetched_at"] <= captures[1]["fetched_at"]  # oldest first
        for capture in captures:
            row = rows[capture["id"]]
            assert (row["warc_file"], row["offset"], row["kind"]) == (
                capture["warc_file"],
                capture["offset"],
                capture["kind"],
            )
        assert rows[captures[1]["id"]]["article_id"] == article["id"]
        # show --capture: the page, whose article it is
        head, _, _ = raw_capture(tmp_path, article["id"]).partition(b"\r\n\r\n")
        assert b"Content-Type: text/html" in head


# -- the store's two ways: one article per transaction, and the group commit's fast path ---


@pytest.fixture(params=["one by one", "in batches"])
def storing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    archive = Archive(f"sqlite:///{tmp_path / 'store.db'}")

    def store(items: list[ArticleItem]) -> list[str]:
        entries = [
            (item, archive.sources.ensure(item.source_url, kind="rss").id, item.key or item.url)
            for item in items
        ]
        if request.param == "one by one":
            return [archive.articles.store(*entry).outcome for entry in entries]
        results = archive.articles.store_many(entries)
        return [r.outcome if not isinstance(r, Exception) else repr(r) for r in results]

    yield archive, store
    archive.close()


def poll(archive: Archive, n: int, url: str = "https://example.com/feed.xml") -> int:
    """Index the *n*-th capture of the feed at *url*: its row's id."""
    record = CaptureRecord(
        url=url,
        fetched_at=datetime(2021, 4, 2, 6, n, tzinfo=UTC),
        status=200,
        content_type="application/rss+xml",
        payload_digest="sha1:SAME",
        warc_file="feed.warc.gz",
        offset=1000 * n,
        length=500,
        record_type="response" if n == 0 else "revisit",
    )
    return archive.captures.add(record, kind="feed", source_url=url)


def entry(n: int, capture_id: int | None) -> ArticleItem:
    item = make_item(n)
    item.listing_capture_id = capture_id
    return item


def test_both_ways_of_storing_keep_the_span_of_polls_that_held_the_article(
    storing: Any,
) -> None:
    archive, store = storing
    other = poll(archive, 0, "https://other.example/feed.xml")  # another feed's, in between
    polls = [poll(archive, n) for n in range(3)]
    assert store([entry(1, polls[0]), entry(2, polls[0])]) == ["new", "new"]
    assert store([entry(1, polls[1])]) == ["unchanged"]
    # a poll the archive never indexed (a full disk) leaves the span as it was
    assert store([entry(1, None), entry(2, None)]) == ["unchanged", "unchanged"]
    assert store([entry(1, polls[2])]) == ["unchanged"]
    one, two = (archive.articles.get(f"https://example.com/a/{n}") for n in (1, 2))
    assert [c["id"] for c in one["captures"]] == polls
    assert [c["id"] for c in two["captures"]] == polls[:1]
    assert other not in {c["id"] for c in one["captures"]}
    assert [c["record_type"] for c in one["captures"]] == ["response", "revisit", "revisit"]
    # one query for many articles gives each its own
    exported = archive.articles.export(SearchFilters())
    assert {a["guid"]: [c["id"] for c in a["captures"]] for a in exported} == {
        "guid-1": polls,
        "guid-2": polls[:1],
    }
    assert archive.captures.serving(one["id"]).id == polls[2]  # type: ignore[union-attr]


def test_reprocess_reads_a_sitemap_page_with_the_entry_of_the_sitemap_that_listed_it(
    mock_site: Any, tmp_path: Path
) -> None:
    """The news sitemap names titles, dates and keywords some of its pages lack: reprocess
    reads them again from the sitemap's capture, as the crawl did, so nothing changes."""
    sitemaps = [mock_site.url(p) for p in ("/sitemaps/news.xml", "/sitemaps/articles.xml")]
    archiver(tmp_path, "crawl", "--no-images", *sitemaps)
    articles = archiver(tmp_path, "search", "--format", "json").json()
    before = {a["id"]: show(tmp_path, a["id"]) for a in articles}
    assert any(kinds(s["captures"])[0] == ("sitemap", "response") for s in before.values())
    mock_site.reset_log()
    report = archiver(tmp_path, "reprocess", "--json").json()
    assert mock_site.requests() == []
    assert (report["articles"], report["updated"], report["unchanged"]) == (6, 0, 6)
    assert report["errors"] == []
    for article_id, shown in before.items():
        again = show(tmp_path, article_id)
        for key in ("title", "published", "categories", "content_html", "revisions"):
            assert again[key] == shown[key], (again["url"], key)

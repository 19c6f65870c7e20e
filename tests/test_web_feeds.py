"""Any search as a feed: ``/feed.atom`` and ``/feed.json`` and ``archiver export --format
atom|jsonfeed``, read back by the archiver's own feed reader and by feedparser with nothing
lost, and conditional requests answered ``304``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient

from archiver.readers.feeds.parse import parse_feed
from archiver.web import ReaderConfig, create_app
from tests.conftest import run_archiver
from tests.webreader import CrawledArchive, crawl_for_reader

BASE = "http://testserver"


@pytest.fixture(scope="module")
def crawled(mock_site: Any, tmp_path_factory: pytest.TempPathFactory) -> CrawledArchive:
    return crawl_for_reader(mock_site, tmp_path_factory.mktemp("feeds"))


@pytest.fixture(scope="module")
def client(crawled: CrawledArchive) -> Iterator[TestClient]:
    app = create_app(ReaderConfig(database_url=crawled.db_url, media_dir=crawled.media))
    with TestClient(app) as test_client:
        yield test_client


def _articles(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    rows = client.get("/api/search", params=params).json()
    return [client.get(f"/api/articles/{row['id']}").json() for row in rows]


def _check_entry(item: Any, article: dict[str, Any]) -> None:
    """An entry the archiver's reader gave back against the archived article."""
    assert item.guid == (article["guid_raw"] or article["canonical_url"] or article["url"])
    assert item.url == article["url"]
    assert item.title_raw == article["title"]
    assert item.authors_raw == article["authors"]
    assert item.categories_raw == article["categories"] + [
        t for t in article["tags"] if t not in article["categories"]
    ]
    if article["published"]:
        assert item.published_raw == article["published"]
    if article["updated"]:
        assert item.updated_raw == article["updated"]
    assert (item.language_raw or None) == article["language"]


@pytest.mark.parametrize(("path", "media_type"), [
    ("/feed.atom", "application/atom+xml"),
    ("/feed.json", "application/feed+json"),
])  # fmt: skip
def test_a_search_as_a_feed_reads_back_whole(
    client: TestClient, path: str, media_type: str
) -> None:
    response = client.get(path, params={"q": "谷歌"})
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    articles = _articles(client, q="谷歌")
    feed = parse_feed(response.content, BASE + path, content_type=response.headers["content-type"])
    assert not feed.errors
    assert len(feed.entries) == len(articles) >= 1
    for item, article in zip(feed.entries, articles, strict=True):
        _check_entry(item, article)
        body = item.content_html or ""
        # the body whole, sanitized, its archived images absolute links to the reader
        page = client.get(f"/articles/{article['id']}").text
        shown = page.split('<div class="body">', 1)[1].rsplit("</div>\n  <footer", 1)[0]
        assert body == shown.replace('src="/media/', f'src="{BASE}/media/')
        archived = {i["sha256"] for i in article["images"] if i["status"] == "downloaded"}
        for digest in archived:
            assert f"{BASE}/media/{digest}" in body
            image = client.get(f"/media/{digest}")
            assert hashlib.sha256(image.content).hexdigest() == digest
        assert "<script" not in body


def test_feedparser_reads_the_atom_feed(client: TestClient) -> None:
    response = client.get("/feed.atom", params={"q": "谷歌"})
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    articles = _articles(client, q="谷歌")
    assert len(parsed.entries) == len(articles)
    for entry, article in zip(parsed.entries, articles, strict=True):
        assert entry.title == article["title"]
        assert entry.link == article["url"]
        assert [a.name for a in entry.authors] == article["authors"]
        assert [t.term for t in entry.tags][: len(article["categories"])] == article["categories"]
        assert entry.published == article["published"]
        assert "谷歌" in entry.content[0].value


def test_the_feed_follows_the_filters(client: TestClient) -> None:
    everything = json.loads(client.get("/feed.json", params={"limit": 200}).content)
    assert len(everything["items"]) == len(client.get("/api/search", params={"limit": 200}).json())
    category = next(t for item in everything["items"] for t in item.get("tags", []))
    narrowed = json.loads(client.get("/feed.json", params={"category": category}).content)
    assert 0 < len(narrowed["items"]) <= len(everything["items"])
    assert all(category in item["tags"] for item in narrowed["items"])
    assert category in narrowed["title"]
    assert narrowed["feed_url"].startswith(f"{BASE}/feed.json?category=")


@pytest.mark.parametrize("path", ["/feed.atom", "/feed.json"])
def test_conditional_requests_are_answered_304(client: TestClient, path: str) -> None:
    first = client.get(path, params={"q": "谷歌"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get(path, params={"q": "谷歌"}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert (
        client.get(path, params={"q": "谷歌"}, headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    # another query is another feed; a stale validator gets the body
    other = client.get(path, params={"q": "keras"}, headers={"If-None-Match": etag})
    assert other.status_code == 200
    stale = client.get(path, params={"q": "谷歌"}, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == first.content
    early = client.get(
        path, params={"q": "谷歌"}, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert early.status_code == 200


# -- archiver export --format atom|jsonfeed -------------------------------------------------


@pytest.mark.parametrize(("fmt", "name"), [("atom", "feed.atom"), ("jsonfeed", "feed.json")])
def test_export_writes_a_feed_the_archiver_crawls_back_with_nothing_lost(
    crawled: CrawledArchive, tmp_path: Path, fmt: str, name: str
) -> None:
    site = tmp_path / "site"
    base = "https://archive.example.org/news/"
    result = run_archiver(
        "--db", crawled.db_url, "--media", str(crawled.media),
        "export", str(site), "--format", fmt, "--images", "copy", "--base-url", base,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = (site / name).read_bytes()
    rows = crawled.cli("search", "--limit", "1000", "--format", "json")
    articles = {row["url"]: crawled.cli("show", str(row["id"]), "--format", "json") for row in rows}
    feed = parse_feed(data, base + name)
    assert len(feed.entries) == len(articles)
    for item in feed.entries:
        article = articles[item.url]
        _check_entry(item, article)
        for image in article["images"]:
            if image["status"] == "downloaded":
                copy = site / "media" / image["path"]
                assert hashlib.sha256(copy.read_bytes()).hexdigest() == image["sha256"]
                assert f"{base.rstrip('/')}/media/{image['path']}" in (item.content_html or "") or (
                    image["role"] != "body"
                )
    # and the archiver crawls the exported file into a new archive with nothing lost
    again = tmp_path / "again.db"
    crawl = run_archiver(
        "--db", str(again), "--media", str(tmp_path / "again-media"),
        "crawl", "--no-images", "--full-text", "never", str(site / name),
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    back = run_archiver("--db", str(again), "search", "--limit", "1000", "--format", "json")
    reread = {row["url"]: row for row in back.json()}
    assert set(reread) == set(articles)
    for url, row in reread.items():
        article = articles[url]
        for key in ("title", "published", "authors"):
            assert row[key] == article[key], (url, key)
        assert set(article["categories"]) <= set(row["categories"])
    # exporting again writes nothing
    rerun = run_archiver(
        "--db", crawled.db_url, "--media", str(crawled.media), "export", str(site),
        "--format", fmt, "--images", "copy", "--base-url", base, "--json",
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.json()["written"] == 0


def test_export_of_a_feed_with_copied_images_needs_a_base_url(
    crawled: CrawledArchive, tmp_path: Path
) -> None:
    result = run_archiver(
        "--db",
        crawled.db_url,
        "export",
        str(tmp_path / "x"),
        "--format",
        "atom",
        "--images",
        "copy",
    )
    assert result.returncode == 2
    assert "--base-url" in result.stderr
    assert "Traceback" not in result.stderr

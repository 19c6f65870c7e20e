"""Sitemaps and article pages as sources: the parser, the spider's choices, real crawls."""

from __future__ import annotations

import contextlib
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.http import Request
from scrapy.utils.test import get_crawler

from archiver.crawling.runner import CrawlOptions, SourceConfig, with_archived_pages
from archiver.crawling.scheduled import probe_source
from archiver.crawling.signals import SourceOutcome, source_fetched
from archiver.crawling.sitemaps import SitemapCrawl
from archiver.errors import ArchiverError, FeedParseError
from archiver.items import ArticleItem
from archiver.readers.sitemaps import (
    ParsedSitemap,
    SitemapEntry,
    newest_first,
    parse_robots,
    parse_sitemap,
    sniff_sitemap,
)
from archiver.storage import Archive
from spiders.feed import FeedSpider
from tests.conftest import run_archiver

SITEMAP = "https://example.com/sitemap.xml"
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- generated -->
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc> https://example.com/a </loc><lastmod>2021-04-02T14:27:15+08:00</lastmod>
    <image:image><image:loc>https://cdn.example.com/a.jpg</image:loc></image:image></url>
  <url><loc>/b</loc><lastmod>2021-05-01</lastmod></url>
  <url><loc>https://example.com/c</loc>
    <news:news><news:publication><news:name>Ex</news:name><news:language>zh</news:language>
    </news:publication><news:publication_date>2021-06-01T08:00:00Z</news:publication_date>
    <news:title>C &amp; co</news:title><news:keywords>AI, Keras</news:keywords></news:news></url>
  <url><loc>javascript:alert(1)</loc></url>
  <url><loc>https://example.com/d</loc><lastmod>not a date</lastmod></url>
</urlset>
"""
INDEX = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://example.com/old.xml</loc><lastmod>2020-01-01</lastmod></sitemap>
<sitemap><loc>https://example.com/new.xml.gz</loc><lastmod>2021-01-01</lastmod></sitemap>
</sitemapindex>"""


# -- the parser -------------------------------------------------------------------------------


def test_urlset_with_news_and_images() -> None:
    parsed = parse_sitemap(URLSET, SITEMAP)
    assert parsed.kind == "urlset"
    assert parsed.errors == []
    a, b, c, d = parsed.entries  # javascript: left out
    assert a.url == "https://example.com/a"
    assert a.lastmod == datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)
    assert a.images == ["https://cdn.example.com/a.jpg"]
    assert b.url == "https://example.com/b"  # relative loc resolved
    assert b.lastmod_raw == "2021-05-01"
    assert c.news_title == "C & co"
    assert c.news_published == datetime(2021, 6, 1, 8, 0, tzinfo=UTC)
    assert c.news_keywords == ["AI", "Keras"]
    assert c.date == c.news_published  # no lastmod: the publication date
    assert d.lastmod is None
    assert d.lastmod_raw == "not a date"
    assert [e.url[-1] for e in newest_first(parsed.entries)] == ["c", "b", "a", "d"]


def test_index_gzip_and_robots() -> None:
    parsed = parse_sitemap(gzip.compress(INDEX), "https://example.com/sitemap_index.xml.gz")
    assert parsed.kind == "sitemapindex"
    assert [e.url for e in newest_first(parsed.entries)] == [
        "https://example.com/new.xml.gz",
        "https://example.com/old.xml",
    ]
    robots = parse_robots(
        b"User-agent: *\nDisallow: /x\nSitemap: /s1.xml\nsitemap: https://cdn.example.com/s2.xml\n",
        "https://example.com/robots.txt",
    )
    assert robots.kind == "robots"
    assert [e.url for e in robots.entries] == [
        "https://example.com/s1.xml",
        "https://cdn.example.com/s2.xml",
    ]


def test_detection_is_by_the_root_element() -> None:
    assert sniff_sitemap(URLSET) == "urlset"
    assert sniff_sitemap(b"\xef\xbb\xbf" + INDEX) == "sitemapindex"
    assert sniff_sitemap(b"<rss><channel/></rss>") is None
    assert sniff_sitemap(b"<html><body>urlset</body></html>") is None
    with pytest.raises(FeedParseError):
        parse_sitemap(b"<rss version='2.0'><channel/></rss>", SITEMAP)
    with pytest.raises(FeedParseError):
        parse_sitemap(b"\x1f\x8b\x08 not really gzip", SITEMAP)
    with pytest.raises(FeedParseError):
        parse_sitemap(gzip.compress(URLSET * 40), SITEMAP, max_size=len(URLSET) * 2)


def test_a_broken_sitemap_keeps_what_was_read() -> None:
    broken = URLSET.replace(b"<url><loc>/b</loc>", b"<url><loc>/b</lo", 1)
    parsed = parse_sitemap(broken, SITEMAP)
    assert parsed.entries[0].url == "https://example.com/a"


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=1000))
def test_arbitrary_bytes_raise_nothing_but_feed_parse_error(body: bytes) -> None:
    for document in (body, b"<urlset>" + body, b"<sitemapindex><sitemap><loc>" + body):
        with contextlib.suppress(FeedParseError):
            parse_sitemap(document, SITEMAP)


# -- the spider's choices (no network) ---------------------------------------------------------


def spider_for(
    *configs: SourceConfig, max_pages: int = 1000
) -> tuple[FeedSpider, list[SourceOutcome]]:
    crawler = get_crawler(
        FeedSpider,
        settings_dict={"ARCHIVER_SITEMAP_MAX_PAGES": max_pages, "ARCHIVER_SITEMAP_MAX_SITEMAPS": 1},
    )
    crawler.stats.open_spider()  # type: ignore[union-attr]
    spider = FeedSpider.from_crawler(crawler, url=SITEMAP, sources=list(configs))
    spider.crawler = crawler
    reports: list[SourceOutcome] = []

    def record(outcome: SourceOutcome) -> None:
        reports.append(outcome)

    crawler.signals.connect(record, signal=source_fetched, weak=False)
    return spider, reports


def follow(spider: FeedSpider, sitemap: ParsedSitemap) -> tuple[SitemapCrawl, list[Request]]:
    crawl = SitemapCrawl(SITEMAP, SourceOutcome(url=SITEMAP))
    spider.sitemap_crawls[SITEMAP] = crawl
    return crawl, list(spider.follow_sitemap(crawl, sitemap, SITEMAP, depth=0))


def entry(path: str, day: int | None) -> SitemapEntry:
    date = datetime(2021, 4, day, tzinfo=UTC) if day else None
    return SitemapEntry(url=f"https://example.com{path}", lastmod=date)


def test_pages_archived_and_unchanged_cost_no_request() -> None:
    fetched = datetime(2021, 4, 10, tzinfo=UTC)
    archived = {
        "https://example.com/same": fetched,  # lastmod older: unchanged
        "https://example.com/changed": fetched,  # lastmod newer: fetched again
        "https://example.com/undated": fetched,  # no date, archived: nothing says it changed
        "https://example.com/canonical": fetched,
    }
    spider, reports = spider_for(SourceConfig(url=SITEMAP, archived_pages=archived))
    sitemap = ParsedSitemap(
        kind="urlset",
        entries=[
            entry("/same", 9),
            entry("/changed", 11),
            entry("/undated", None),
            entry("/new", 1),
            entry("/canonical?utm_source=rss#top", 10),  # the same page, canonicalized
        ],
    )
    crawl, requests = follow(spider, sitemap)
    assert [r.url for r in requests] == ["https://example.com/changed", "https://example.com/new"]
    assert crawl.unchanged == 3
    assert reports[-1].status == "partial"  # interim, until the pages are in


def test_newest_first_within_the_bound_and_deduplicated() -> None:
    spider, _ = spider_for(max_pages=2)
    sitemap = ParsedSitemap(
        kind="urlset",
        entries=[entry("/1", 1), entry("/3", 3), entry("/none", None), entry("/2", 2)],
    )
    crawl, requests = follow(spider, sitemap)
    # The news sitemap names /1 again, newer: one page, its newest date.
    more = ParsedSitemap(kind="urlset", entries=[entry("/1", 5)])
    assert list(spider.follow_sitemap(crawl, more, SITEMAP, depth=1)) == []  # already asked
    assert [r.url for r in requests] == ["https://example.com/3", "https://example.com/2"]
    assert [r.priority for r in requests] == [0, -1]
    assert crawl.left_out == 2


def test_an_index_is_followed_newest_first_within_its_bound() -> None:
    spider, _ = spider_for()
    index = ParsedSitemap(
        kind="sitemapindex",
        entries=[
            entry("/old.xml", 1),
            entry("/new.xml", 2),
            SitemapEntry(url="file:///etc/passwd"),
        ],
    )
    crawl, requests = follow(spider, index)
    assert [r.url for r in requests] == ["https://example.com/new.xml"]  # max 1 sitemap
    assert crawl.pending_sitemaps == 1
    assert any("sitemaps" in error for error in crawl.errors)


def test_every_page_failing_fails_the_source() -> None:
    spider, reports = spider_for()
    _, requests = follow(spider, ParsedSitemap(kind="urlset", entries=[entry("/a", 1)]))
    assert len(requests) == 1
    spider.page_settled(requests[0].meta, failure="HTTP 404 from https://example.com/a")
    assert reports[-1].status == "failed"
    assert reports[-1].error == "1 of 1 pages failed: HTTP 404 from https://example.com/a"


def test_a_known_feed_answering_html_is_not_a_page() -> None:
    from scrapy.http import HtmlResponse

    def response(url: str, content_type: str = "text/html") -> HtmlResponse:
        request = Request(url, meta={"source_url": url})
        return HtmlResponse(
            url, body=b"<html/>", headers={"Content-Type": content_type}, request=request
        )

    feed = "https://example.com/feed.xml"
    spider, _ = spider_for(SourceConfig(url=feed, kind="rss"))
    assert not spider.may_be_page(response(feed))
    assert spider.may_be_page(response("https://example.com/post.html"))
    assert not spider.may_be_page(response(SITEMAP, "application/rss+xml; charset=utf-8"))


def test_the_bookkeeping_reports_a_sitemap_source_without_a_spider() -> None:
    """SitemapCrawl alone: pages chosen newest first, settled, and the outcome written."""
    crawl = SitemapCrawl(SITEMAP, SourceOutcome(url=SITEMAP))
    urlset = ParsedSitemap(kind="urlset", entries=[entry(f"/{day}", day) for day in range(1, 10)])
    assert list(crawl.follow(urlset, SITEMAP, depth=0, max_sitemaps=1, tracking_params=())) == []
    archived = {"https://example.com/9": datetime(2021, 4, 20, tzinfo=UTC)}
    chosen = crawl.choose_pages(archived, max_pages=7)
    assert [e.url for e in chosen] == [f"https://example.com/{day}" for day in range(8, 1, -1)]
    assert (crawl.unchanged, crawl.left_out, crawl.pending_pages) == (1, 1, 7)
    assert crawl.interim_outcome().final is False
    settled = [crawl.settle_page(archived=True)]
    settled += [crawl.settle_page(failure=f"page {n}") for n in range(6)]
    assert settled == [False] * 6 + [True]
    outcome = crawl.finish(pending_items=1)
    assert (outcome.status, outcome.entries, outcome.pending_items) == ("partial", 1, 1)
    assert outcome.error == (
        "6 of 7 pages failed: page 0; page 1; page 2; page 3; page 4; and 1 more"
    )
    assert outcome.warnings == [
        "1 pages unchanged since archived",
        "1 pages left for later crawls",
    ]


def test_a_response_says_how_its_source_went() -> None:
    from archiver.crawling.outcomes import may_be_article_page, response_outcome

    headers = {"ETag": '"v1"', "Retry-After": "120", "Cache-Control": "max-age=60"}
    moved = response_outcome(SITEMAP, "https://example.com/new.xml", 200, headers.get, (301,))
    assert (moved.status, moved.moved_to, moved.etag, moved.max_age) == (
        "ok",
        "https://example.com/new.xml",
        '"v1"',
        60,
    )
    found = response_outcome(SITEMAP, "https://example.com/new.xml", 200, headers.get, (302,))
    assert (found.final_url, found.moved_to) == ("https://example.com/new.xml", None)
    assert response_outcome(SITEMAP, SITEMAP, 304, headers.get).status == "not_modified"
    busy = response_outcome(SITEMAP, SITEMAP, 429, headers.get)
    assert (busy.status, busy.retry_after, busy.etag) == ("failed", 120, None)
    assert may_be_article_page("text/html", known_kind=None, discovered=False)
    assert not may_be_article_page("text/html", known_kind="atom", discovered=False)
    assert not may_be_article_page("text/html", known_kind=None, discovered=True)


# -- the runner hands the spider what the archive knows -----------------------------------------


def test_the_runner_gives_sitemap_sources_their_archived_pages(archive: Archive) -> None:
    sitemap = archive.sources.ensure(SITEMAP, kind="sitemap")
    feed = archive.sources.ensure("https://example.com/feed.xml", kind="rss")
    for source, url in ((sitemap, "https://example.com/a"), (feed, "https://example.com/f")):
        item = ArticleItem(url=url, source_url=source.url, title_raw=url, content_html="x")
        item.canonical_url = url + "/canonical"
        archive.articles.store(item, source.id, url)
    before = datetime.now(UTC) - timedelta(minutes=1)

    adhoc = with_archived_pages(
        archive, CrawlOptions(urls=[SITEMAP, feed.url], categories=["c"], timezone="UTC")
    )
    assert [c.url for c in adhoc] == [SITEMAP]  # the feed is left as an ad-hoc URL
    config = adhoc[0]
    assert (config.categories, config.timezone, config.kind) == (("c",), "UTC", "sitemap")
    assert set(config.archived_pages) == {
        "https://example.com/a",
        "https://example.com/a/canonical",
    }
    assert all(when > before for when in config.archived_pages.values())

    scheduled = with_archived_pages(
        archive,
        CrawlOptions(urls=[], sources=[SourceConfig(url=SITEMAP, etag='"e"', kind="sitemap")]),
    )
    assert scheduled[0].etag == '"e"'
    assert len(scheduled[0].archived_pages) == 2
    assert archive.articles.archived_pages(["https://example.com/unknown"]) == {}


# -- real crawls of the mock site -------------------------------------------------------------


def crawl(db: str, *urls: str) -> Any:
    return run_archiver("--db", db, "crawl", "--no-images", *urls)


def articles(db: str) -> list[dict[str, Any]]:
    result = run_archiver("--db", db, "search", "--limit", "1000", "--format", "json")
    assert result.returncode == 0, result.stderr
    return result.json()  # type: ignore[no-any-return]


def last_run(db: str) -> dict[str, Any]:
    return run_archiver("--db", db, "runs", "--format", "json").json()[0]  # type: ignore[no-any-return]


def test_a_sitemap_index_then_a_recrawl_that_fetches_no_page(mock_site: Any, db_url: str) -> None:
    index = mock_site.url("/sitemap.xml")
    mock_site.reset_log()
    first = crawl(db_url, index)
    assert first.returncode == 0, first.stderr
    assert "6 new" in first.stdout
    paths = [r["path"] for r in mock_site.requests()]
    assert set(paths) >= {"/sitemap.xml", "/sitemaps/articles.xml", "/sitemaps/news.xml"}
    pages = [p for p in paths if p.startswith("/articles/")]
    assert len(pages) == len(set(pages)) == 6  # listed twice (urlset and news), fetched once
    rows = articles(db_url)
    assert len(rows) == 6
    assert {r["source_url"] for r in rows} == {index}
    outcome = last_run(db_url)["sources"][index]
    assert (outcome["kind"], outcome["status"], outcome["entries"]) == ("sitemap", "ok", 6)

    mock_site.reset_log()
    again = crawl(db_url, index)
    assert again.returncode == 0, again.stderr
    assert "6 pages unchanged since archived (not fetched)" in again.stdout
    assert not [r for r in mock_site.requests() if r["path"].startswith("/articles/")]
    assert len(articles(db_url)) == 6


def test_short_url_page_gzip_sitemap_and_failed_pages(mock_site: Any, db_url: str) -> None:
    short = mock_site.url("/p/1188230")
    first = crawl(db_url, short)
    assert first.returncode == 0, first.stderr
    assert "1 new" in first.stdout
    (keras,) = articles(db_url)
    article = run_archiver("--db", db_url, "show", str(keras["id"]), "--format", "json").json()
    assert article["url"] == short
    assert article["canonical_url"] == mock_site.url("/articles/keras.html")
    assert article["guid"] == article["canonical_url"]  # archived under its canonical URL
    # extracted as an entry's page is; the page as fetched is its capture
    assert article["content_html"].startswith("<h1>Keras，亡于谷歌？</h1><p>编者按")
    assert article["content_source"] == "page:extractor"
    assert [c["kind"] for c in article["captures"]] == ["page"]
    assert last_run(db_url)["sources"][short]["kind"] == "page"

    canonical = mock_site.url("/articles/keras.html")
    gzipped = mock_site.url("/sitemaps/articles.xml.gz")
    broken = mock_site.url("/sitemaps/broken-index.xml")
    second = crawl(db_url, canonical, gzipped, broken)
    assert second.returncode == 0, second.stderr  # partial sources are not failures
    rows = articles(db_url)
    assert len(rows) == 6  # keras once, whichever URL reached it
    assert sum(1 for r in rows if r["url"] == short) == 1
    outcomes = last_run(db_url)["sources"]
    assert outcomes[canonical]["unchanged"] == 1
    assert (outcomes[gzipped]["status"], outcomes[gzipped]["new"]) == ("ok", 5)
    assert outcomes[broken]["status"] == "partial"
    assert outcomes[broken]["entries"] == 1
    assert "2 of 3 pages failed" in outcomes[broken]["error"]
    assert "HTTP 404" in outcomes[broken]["error"]
    assert "missing.xml" in outcomes[broken]["error"]


def test_sources_add_recognizes_sitemaps_and_pages(mock_site: Any) -> None:
    sitemap = probe_source(mock_site.url("/sitemaps/news.xml"))
    assert (sitemap.kind, sitemap.entries) == ("sitemap", 6)
    assert probe_source(mock_site.url("/robots.txt")).kind == "sitemap"
    assert probe_source(mock_site.url("/sitemaps/articles.xml.gz")).entries == 6
    page = probe_source(mock_site.url("/articles/rss-returns.html"))
    assert (page.kind, page.title) == ("page", "The quiet return of RSS")
    with pytest.raises(ArchiverError, match="announces feeds"):
        probe_source(mock_site.url("/"))  # announces its feeds: not a page


def test_a_sitemap_cannot_send_the_crawler_to_private_addresses(
    mock_site: Any, db_url: str
) -> None:
    """The sitemap's own host is the user's; this server under another name and a cloud
    metadata address are not fetched for it, and the rest is archived."""
    sitemap = mock_site.url("/sitemaps/private.xml")
    mock_site.reset_log()
    done = crawl(db_url, sitemap)
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stdout
    pages = [r["path"] for r in mock_site.requests() if r["path"].startswith("/articles/")]
    assert pages == ["/articles/keras.html"]
    outcome = last_run(db_url)["sources"][sitemap]
    assert outcome["status"] == "partial"
    assert "2 of 3 pages failed" in outcome["error"]
    assert "private address: localhost (" in outcome["error"]
    assert "private address: 169.254.169.254 is not fetched" in outcome["error"]


def test_the_images_an_image_sitemap_names_are_archived(
    mock_site: Any, db_url: str, tmp_path: Path
) -> None:
    """Each ``image:image`` of a page is archived with it as media, beside the body's own
    (the one that is also the head image is listed once, as the head image)."""
    from tests.mocksite.corpus import ARTICLES

    sitemap = mock_site.url("/sitemaps/articles.xml")
    media = str(tmp_path / "media")
    done = run_archiver("--db", db_url, "--media", media, "crawl", sitemap)
    assert done.returncode == 0, done.stderr
    named = set()
    for row in articles(db_url):
        shown = run_archiver("--db", db_url, "show", str(row["id"]), "--format", "json").json()
        named |= {
            (row["url"], image["url"], image["status"])
            for image in shown["images"]
            if image["role"] in ("media", "headimg")
        }
    assert named == {
        (mock_site.url(f"/articles/{a.slug}.html"), mock_site.url(path), "downloaded")
        for a in ARTICLES
        for path in a.images
    }


def test_a_web_page_cannot_have_a_local_file_archived(
    mock_site: Any, db_url: str, tmp_path: Path
) -> None:
    """Its <base href="file:..."> is not taken: its image is looked for on the web, next to
    the page (there is none), and no local file is read."""
    page = mock_site.url("/pages/file-base.html")
    media = tmp_path / "media"
    done = run_archiver("--db", db_url, "--media", str(media), "crawl", page)
    assert done.returncode == 0, done.stderr
    assert "1 new, 0 updated, 0 unchanged, 0 failed, 0 images (0 B), 1 image not archived" in (
        done.stdout
    )
    (row,) = articles(db_url)
    shown = run_archiver("--db", db_url, "show", str(row["id"]), "--format", "json").json()
    images = shown["images"]
    assert {image["url"] for image in images} == {mock_site.url("/pages/cover.png")}
    assert {image["status"] for image in images} == {"failed"}
    assert shown["base_url"] == page
    assert mock_site.requests("/pages/cover.png")  # asked for on the web, not on disk
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))

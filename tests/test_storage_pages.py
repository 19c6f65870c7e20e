"""Storing whole articles: a merged page, its state for the next crawl, its captures."""

from __future__ import annotations

from datetime import UTC, datetime

from archiver.items import ArticleItem, CaptureRecord, PageFetch
from archiver.normalize.article import content_hash
from archiver.storage import Archive
from tests.test_storage import make_item, store

WHEN = datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)
SUMMARY = "<p>A teaser…</p>"
PAGE_BODY = "<p>The whole article, from its page.</p>" * 20


def summary_entry(**fields: object) -> ArticleItem:
    item = make_item(1, content_html=SUMMARY, summary_html=SUMMARY, **fields)
    item.entry_hash = item.content_hash = content_hash(item)
    return item


def with_page(item: ArticleItem, status: str = "fetched", **fields: object) -> ArticleItem:
    """*item* as the pages pipeline leaves it when its page went as *status*."""
    item.page = PageFetch(status=status, reason="cut off", attempted_at=WHEN, **fields)  # type: ignore[arg-type]
    if status == "fetched":
        item.feed_content_html = None
        item.content_html = PAGE_BODY
        item.content_source = "page:extractor"
        item.provenance = {"content": "page:extractor", "title": "feed"}
        item.content_hash = content_hash(item)
    return item


def page_capture() -> CaptureRecord:
    """The capture of the page at ``https://example.com/a/1``, as the crawl indexes it."""
    return CaptureRecord(
        url="https://example.com/a/1",
        fetched_at=WHEN,
        status=200,
        content_type="text/html",
        payload_digest="sha1:ABC",
        warc_file="x.warc.gz",
        offset=123,
        length=456,
    )


def test_a_merged_page_is_stored_with_where_it_came_from(archive: Archive) -> None:
    capture = page_capture()
    item = with_page(summary_entry(), url="https://example.com/a/1", etag='"v1"', capture=capture)
    assert store(archive, item) == "new"
    shown = archive.articles.get("https://example.com/a/1")
    assert shown["content_html"] == PAGE_BODY
    assert shown["summary_html"] == SUMMARY  # the feed's own body stays, byte for byte
    assert shown["content_source"] == "page:extractor"
    assert shown["provenance"] == {"content": "page:extractor", "title": "feed"}
    assert shown["page"] == {
        "status": "fetched",
        "url": "https://example.com/a/1",
        "error": None,
        "failures": 0,
        "attempted_at": "2021-04-02T06:27:15Z",
    }
    assert shown["captures"] == [
        {
            "id": 1,
            "url": "https://example.com/a/1",
            "fetched_at": "2021-04-02T06:27:15Z",
            "status": 200,
            "content_type": "text/html",
            "payload_digest": "sha1:ABC",
            "warc_file": "x.warc.gz",
            "offset": 123,
            "length": 456,
            "kind": "page",
            "record_type": "response",
        }
    ]
    state = archive.pages.state("https://example.com/feed.xml", "guid-1")
    assert state is not None
    assert (state.entry_hash, state.status, state.etag) == (item.entry_hash, "fetched", '"v1"')
    assert state.content_source == "page:extractor"
    assert state.own
    assert archive.pages.state("https://example.com/feed.xml", "guid-2") is None
    other = archive.pages.state("https://example.com/other.xml", "x", "https://example.com/a/1")
    assert other is not None
    assert (other.article_id, other.own) == (state.article_id, False)


def test_a_crawl_that_keeps_the_page_leaves_the_article_alone(archive: Archive) -> None:
    store(archive, with_page(summary_entry()))
    kept = summary_entry()
    kept.page = PageFetch(status="kept", reason="cut off")
    assert store(archive, kept) == "unchanged"
    assert archive.articles.get(1)["content_html"] == PAGE_BODY
    # without the pages pipeline at all (--full-text never), the same
    assert store(archive, summary_entry()) == "unchanged"
    assert archive.articles.get(1)["revisions"] == 0


def test_a_changed_entry_is_a_new_version_even_if_its_page_fails(archive: Archive) -> None:
    store(archive, with_page(summary_entry()))
    changed = summary_entry(title_raw="A new title")
    changed.page = PageFetch(
        status="failed", reason="cut off", error="HTTP 503", attempted_at=WHEN, failures=1
    )
    assert store(archive, changed) == "updated"
    shown = archive.articles.get(1)
    assert shown["revisions"] == 1  # the page's body is kept in revisions: never lost
    assert shown["content_source"] == "feed"
    assert shown["page"]["status"] == "failed"
    assert shown["page"]["error"] == "HTTP 503"
    assert shown["page"]["failures"] == 1


def test_a_page_that_fails_again_counts_without_a_new_version(archive: Archive) -> None:
    first = summary_entry()
    first.page = PageFetch(
        status="failed", reason="short", error="timeout", attempted_at=WHEN, failures=1
    )
    assert store(archive, first) == "new"
    again = summary_entry()
    again.page = PageFetch(
        status="failed", reason="short", error="HTTP 500", attempted_at=WHEN, failures=2
    )
    assert store(archive, again) == "unchanged"
    state = archive.pages.state("https://example.com/feed.xml", "guid-1")
    assert state is not None
    assert (state.status, state.failures) == ("failed", 2)
    # then the page comes back: the article gets its whole text, the old one in revisions
    assert store(archive, with_page(summary_entry())) == "updated"
    shown = archive.articles.get(1)
    assert shown["content_html"] == PAGE_BODY
    assert shown["page"]["failures"] == 0
    assert shown["revisions"] == 1

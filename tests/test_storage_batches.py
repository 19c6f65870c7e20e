"""Group commits: a batch stored at once ends as storing its articles one by one, in order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from archiver.errors import DatabaseError
from archiver.items import ArticleItem, ImageRef
from archiver.storage import Archive
from archiver.storage.models import Article, Capture, Revision
from archiver.storage.sql import insert_many
from tests.test_storage import make_item
from tests.test_storage_pages import WHEN, page_capture, summary_entry, with_page

FEED = "https://example.com/feed.xml"
OTHER_FEED = "https://other.example/feed.xml"


@pytest.fixture(params=["sqlite", "postgresql"])
def batch_archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    """The archive written in batches: SQLite, and PostgreSQL when the suite has one."""
    url = (
        f"sqlite:///{tmp_path / 'batches.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    archive = Archive(url)
    yield archive
    archive.close()


def image(n: int, status: str = "downloaded", **fields: Any) -> ImageRef:
    values: dict[str, Any] = {"error": "http-404"} if status == "failed" else {}
    if status in ("downloaded", "cached"):
        sha = f"{n:064x}"
        values = {"sha256": sha, "path": f"images/{sha[:2]}/{sha}.png", "media_type": "image/png"}
        values |= {"width": 4, "height": 3, "size": 100 + n}
    values |= fields
    url = f"https://img.example/{n}.png"
    return ImageRef(url=url, src=url, position=n, status=status, **values)


def first_batch() -> list[ArticleItem]:
    """New articles, a page with its capture, failed and downloaded images, and the cases
    the batch cannot tell from one read: a second entry of one article, another feed's
    copy, and two entries of one feed pointing at one page."""
    capture = page_capture()
    paged = with_page(summary_entry(), url="https://example.com/a/1", etag='"v1"', capture=capture)
    paged.images = [image(1), image(2, "failed", last_attempt=WHEN, failures=1)]
    changed = make_item(2, title="Title 2, corrected", content_html="<p>Body 2, corrected</p>")
    copy = make_item(1, source_url=OTHER_FEED, guid="other-1", key="other-1")
    same_page = [
        make_item(n, guid=f"g-{n}", key=f"g-{n}", canonical_url="https://example.com/one-page")
        for n in (4, 5)
    ]
    return [paged, make_item(2), make_item(3, images=[image(3)]), changed, copy, *same_page]


def second_batch() -> list[ArticleItem]:
    """Unchanged articles (one whose failed image came this time), a changed one, a new one."""
    again = first_batch()[0]
    again.page = None
    again.images = [image(1, "cached"), image(2)]
    changed = make_item(3, title_raw="Title 3, again", images=[image(3, "cached"), image(6)])
    corrected = make_item(2, title="Title 2, corrected", content_html="<p>Body 2, corrected</p>")
    return [again, corrected, changed, make_item(6)]


def stored(archive: Archive, item: ArticleItem) -> tuple[int, str]:
    return archive.sources.ensure(item.source_url, kind="rss").id, item.key or item.url


def one_by_one(archive: Archive, items: list[ArticleItem]) -> list[str]:
    return [archive.articles.store(item, *stored(archive, item)).outcome for item in items]


def in_one_batch(archive: Archive, items: list[ArticleItem]) -> list[str]:
    """Store *items* with ``store_many``, which must take one transaction (not fall back to
    one per article)."""
    entries = [(item, *stored(archive, item)) for item in items]
    commits: list[object] = []
    count = commits.append
    event.listen(archive.engine, "commit", count)
    try:
        results = archive.articles.store_many(entries)
    finally:
        event.remove(archive.engine, "commit", count)
    assert len(commits) == 1, f"the batch took {len(commits)} transactions"
    return [r.outcome if not isinstance(r, Exception) else type(r).__name__ for r in results]


def everything(archive: Archive) -> list[dict[str, Any]]:
    """Every article as ``show`` gives it, without what depends on the clock or the ids."""
    with archive.session() as session:
        ids = list(session.scalars(select(Article.id).order_by(Article.id)))
    shown = []
    for article_id in ids:
        detail = archive.articles.get(article_id)
        for key in ("id", "first_seen", "last_seen"):
            del detail[key]
        for listed in detail["images"]:
            listed.pop("last_attempt")
        shown.append(detail)
    return sorted(shown, key=lambda d: (d["source_url"], d["guid"]))


def revisions(archive: Archive) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(Revision)) or 0


def test_a_batch_ends_as_storing_one_by_one(batch_archive: Archive, tmp_path: Path) -> None:
    reference = Archive(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    try:
        expected = one_by_one(reference, first_batch())
        assert expected == ["new", "new", "new", "updated", "unchanged", "new", "new"]
        assert in_one_batch(batch_archive, first_batch()) == expected
        assert everything(batch_archive) == everything(reference)

        expected = one_by_one(reference, second_batch())
        assert expected == ["unchanged", "unchanged", "updated", "new"]
        assert in_one_batch(batch_archive, second_batch()) == expected
        assert everything(batch_archive) == everything(reference)
        assert revisions(batch_archive) == revisions(reference) == 2
    finally:
        reference.close()
    shown = batch_archive.articles.get("https://example.com/a/1")
    assert [i["status"] for i in shown["images"]] == ["downloaded", "downloaded"]
    assert shown["page"]["status"] == "fetched"
    assert [c["offset"] for c in shown["captures"]] == [123]
    same_page = [batch_archive.articles.get(f"https://example.com/a/{n}") for n in (4, 5)]
    assert [a["canonical_url"] for a in same_page] == ["https://example.com/one-page", None]


def test_a_batch_names_its_articles_on_the_captures_the_crawl_indexed(
    batch_archive: Archive, tmp_path: Path
) -> None:
    """The row the crawl indexed as a page came is the new article's own (not a second row);
    another entry's article of the same page gets a row of its own: as one by one."""

    def entries_of_one_page(archive: Archive) -> list[ArticleItem]:
        record = page_capture()
        indexed = archive.captures.add(record, kind="page", source_url=FEED)
        record = replace(record, capture_id=indexed)
        first = with_page(summary_entry(), url=record.url, capture=record)
        second = with_page(summary_entry(guid="g-2", key="g-2"), url=record.url, capture=record)
        return [first, second]

    reference = Archive(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    try:
        assert one_by_one(reference, entries_of_one_page(reference)) == ["new", "new"]
        assert in_one_batch(batch_archive, entries_of_one_page(batch_archive)) == ["new", "new"]
        assert everything(batch_archive) == everything(reference)
    finally:
        reference.close()
    with batch_archive.session() as session:
        rows = session.execute(
            select(Capture.article_id, Capture.source_url).order_by(Capture.id)
        ).all()
        articles = list(session.scalars(select(Article.id).order_by(Article.id)))
    assert [tuple(row) for row in rows] == [(articles[0], FEED), (articles[1], FEED)]


def test_an_article_the_database_refuses_costs_only_itself(batch_archive: Archive) -> None:
    refused = make_item(8, url=None)  # articles.url is NOT NULL
    results = batch_archive.articles.store_many(
        [(item, *stored(batch_archive, item)) for item in (make_item(7), refused, make_item(9))]
    )
    assert isinstance(results[1], DatabaseError)
    assert [r.outcome for r in (results[0], results[2])] == ["new", "new"]  # type: ignore[union-attr]
    with batch_archive.session() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 2


def test_a_reparsed_batch_revises_what_todays_normalizers_change(
    batch_archive: Archive, tmp_path: Path
) -> None:
    """``reprocess`` stores in batches: an article whose published values are the same but
    whose normalized ones differ is another version there, as it is one by one; the others
    stay unchanged, with no revision."""
    reference = Archive(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    try:
        for archive in (reference, batch_archive):
            for item in (make_item(1), make_item(2), make_item(3)):
                archive.articles.store(item, *stored(archive, item))
        reread = [
            make_item(1),
            make_item(2, title="Title and 2"),  # today's title normalizer
            make_item(3, published=make_item(3).published + timedelta(hours=1)),  # dates
        ]
        expected = [
            reference.articles.store(item, *stored(reference, item), reparsed=True).outcome
            for item in reread
        ]
        assert expected == ["unchanged", "updated", "updated"]
        entries = [(item, *stored(batch_archive, item)) for item in reread]
        results = batch_archive.articles.store_many(entries, reparsed=True)
        assert [r.outcome for r in results if not isinstance(r, Exception)] == expected
        assert everything(batch_archive) == everything(reference)
        assert revisions(batch_archive) == revisions(reference) == 2
        # without reparsed, the same batch is unchanged: nothing that was published changed
        again = [(item, *stored(batch_archive, item)) for item in (make_item(1), make_item(2))]
        outcomes = batch_archive.articles.store_many(again)
        assert [r.outcome for r in outcomes if not isinstance(r, Exception)] == ["unchanged"] * 2
    finally:
        reference.close()


def test_rows_written_at_once_take_the_defaults_of_the_columns_they_leave_out(
    batch_archive: Archive,
) -> None:
    row = {"url": "https://example.com/a/1", "fetched_at": WHEN, "status": 200}
    row |= {"content_type": None, "payload_digest": "sha1:A", "warc_file": "x.warc.gz"}
    row |= {"offset": 0, "length": 10, "kind": "page"}  # no record_type: "response"
    with batch_archive.session() as session:
        insert_many(session, Capture, [row, {**row, "offset": 10}])
    with batch_archive.session() as session:
        assert list(session.scalars(select(Capture.record_type))) == ["response", "response"]

"""The archive's storage on a fresh SQLite file upgraded by the migrations, and on PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from archiver.errors import ConfigurationError, DatabaseError, NotFoundError
from archiver.items import ArticleItem, ImageRef
from archiver.storage import Archive, SearchFilters
from archiver.storage.db import create_archive_engine, current_revision, head_revision
from archiver.storage.models import Article, Revision


def make_item(n: int = 1, **fields: object) -> ArticleItem:
    values: dict[str, object] = {
        "url": f"https://example.com/a/{n}",
        "source_url": "https://example.com/feed.xml",
        "guid": f"guid-{n}",
        "key": f"guid-{n}",
        "title_raw": f"Title &amp; {n}",
        "title": f"Title & {n}",
        "content_html": f'<p data-x="1">Body {n} 谷歌</p>',
        "content_text": f"Body {n} 谷歌",
        "published": datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC) + timedelta(days=n),
        "published_raw": "Fri, 02 Apr 2021 06:27:15 GMT",
        "authors": ["张三"],
        "categories": ["新媒体", "36kr"],
        "tags": ["AI"],
        "canonical_url": f"https://example.com/a/{n}",
    }
    values.update(fields)
    return ArticleItem(**values)  # type: ignore[arg-type]


def store(archive: Archive, item: ArticleItem) -> str:
    source = archive.sources.ensure(item.source_url, kind="rss")
    return archive.articles.store(item, source.id, item.key or item.url).outcome


def test_closing_leaves_a_sqlite_archive_in_its_one_file(tmp_path: Path) -> None:
    """Another connection open, idle, when the archive closes (a reader's, as after
    ``archiver run`` of 10,000 articles) kept SQLite from folding the WAL back by itself:
    the archive's writes stayed in ``archive.db-wal``, and a copy of ``archive.db`` alone
    lacked them."""
    path = tmp_path / "archive.db"
    archive = Archive(f"sqlite:///{path}")
    for n in range(1, 40):
        store(archive, make_item(n))
    reader = sqlite3.connect(path)
    try:
        assert reader.execute("SELECT count(*) FROM articles").fetchone() == (39,)
        assert Path(f"{path}-wal").stat().st_size > 0
        archive.close()
        assert Path(f"{path}-wal").stat().st_size == 0
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())  # the file alone, as a user copies it
        with sqlite3.connect(copy) as copied:
            assert copied.execute("SELECT count(*) FROM articles").fetchone() == (39,)
    finally:
        reader.close()


def test_first_use_creates_and_upgrades_the_schema(db_url: str, tmp_path: Path) -> None:
    archive = Archive(db_url)
    try:
        assert current_revision(archive.engine) == head_revision()
        tables = set(inspect(archive.engine).get_table_names())
        assert {"sources", "articles", "revisions", "categories", "tags", "images"} <= tables
        assert {"article_images", "article_categories", "crawl_runs"} <= tables
        with archive.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        archive.close()
    assert (tmp_path / "archive.db").exists()


def test_storing_twice_is_idempotent(archive: Archive) -> None:
    assert store(archive, make_item(1)) == "new"
    assert store(archive, make_item(1)) == "unchanged"
    with archive.session() as session:
        assert len(session.scalars(select(Article)).all()) == 1
        assert session.scalars(select(Revision)).all() == []


def test_changed_content_updates_and_keeps_a_revision(archive: Archive) -> None:
    store(archive, make_item(1))
    changed = make_item(1, content_html="<p>Body, corrected</p>")
    assert store(archive, changed) == "updated"
    article = archive.articles.get(1)
    assert article["content_html"] == "<p>Body, corrected</p>"
    assert article["revisions"] == 1
    with archive.session() as session:
        revision = session.scalars(select(Revision)).one()
        assert revision.content_html == '<p data-x="1">Body 1 谷歌</p>'


def test_content_is_stored_byte_for_byte(archive: Archive) -> None:
    html = '<img  data-src="a.png"\tsrc="data:," referrerpolicy="no-referrer" ><p>&nbsp;x</p>'
    store(archive, make_item(1, content_html=html))
    assert archive.articles.get(1)["content_html"] == html


def test_same_canonical_url_from_another_feed_is_one_article(archive: Archive) -> None:
    store(archive, make_item(1))
    other_feed = make_item(
        1, source_url="https://example.com/other.xml", key="other-guid", content_html="<p>x</p>"
    )
    assert store(archive, other_feed) == "unchanged"  # not a revision: another rendering
    assert store(archive, other_feed) == "unchanged"
    assert archive.stats.totals()["articles"] == 1
    assert archive.stats.totals()["revisions"] == 0


def test_one_link_for_every_entry_does_not_merge_distinct_guids(archive: Archive) -> None:
    for n in (1, 2):
        store(
            archive, make_item(n, url="https://example.com/", canonical_url="https://example.com/")
        )
    assert archive.stats.totals()["articles"] == 2


def test_dates_come_back_in_utc(archive: Archive) -> None:
    local = datetime(2021, 4, 2, 14, 27, 15, tzinfo=timezone(timedelta(hours=8)))
    store(archive, make_item(1, published=local))
    assert archive.articles.get(1)["published"] == "2021-04-02T06:27:15Z"


def test_naive_datetimes_are_refused(archive: Archive) -> None:
    with pytest.raises(DatabaseError, match="naive datetime"):
        store(archive, make_item(1, published=datetime(2021, 4, 2, 14, 27)))


def test_categories_keep_their_order_and_chinese_text(archive: Archive) -> None:
    store(archive, make_item(1, categories=["资讯", "新媒体", "36kr"]))
    assert archive.articles.get(1)["categories"] == ["资讯", "新媒体", "36kr"]
    assert archive.articles.get(1)["tags"] == ["AI"]


def test_search_filters(archive: Archive) -> None:
    store(archive, make_item(1, authors=["Alice"], categories=["tech"]))
    store(archive, make_item(2, authors=["张三"], categories=["资讯"]))
    store(archive, make_item(3, content_text="nothing here", title="Other", authors=[]))

    def ids(**filters: object) -> list[int]:
        return [row["id"] for row in archive.articles.search(SearchFilters(**filters))]  # type: ignore[arg-type]

    assert ids() == [3, 2, 1]  # newest first
    assert ids(query="谷歌") == [2, 1]
    assert ids(author="alice") == [1]
    assert ids(author="张三") == [2]
    assert ids(category="资讯") == [2]
    assert ids(since=datetime(2021, 4, 4, tzinfo=UTC)) == [3, 2]
    assert ids(until=datetime(2021, 4, 4, tzinfo=UTC)) == [1]
    assert ids(source="example.com") == [3, 2, 1]
    assert ids(source="nope") == []
    assert ids(query="100%") == []
    row = archive.articles.search(SearchFilters(limit=1))[0]
    assert set(row) >= {"id", "url", "title", "published", "author", "source", "categories"}


def test_article_by_url_and_missing(archive: Archive) -> None:
    store(archive, make_item(1))
    assert archive.articles.get("https://example.com/a/1")["id"] == 1
    with pytest.raises(NotFoundError):
        archive.articles.get("42")


def test_a_failure_never_replaces_a_download(archive: Archive) -> None:
    check_a_failure_never_replaces_a_download(archive)


def check_a_failure_never_replaces_a_download(archive: Archive) -> None:
    """Two workers show one image; one downloads it, the other is refused (a 429): the
    download stays, and the second article links to it."""
    logo = "https://img.example/logo.png"
    done = ImageRef(url=logo, src=logo, position=0, sha256="b" * 64, path="images/bb/b.png",
                    size=12, status="downloaded")  # fmt: skip
    refused = ImageRef(url=logo, src=logo, position=0, status="failed", error="http-429",
                       failures=1)  # fmt: skip
    store(archive, make_item(91, images=[done]))
    store(archive, make_item(92, images=[refused]))
    known = archive.images.known(logo)
    assert known is not None
    assert (known.status, known.path, known.failures) == ("cached", "images/bb/b.png", 0)
    for n in (91, 92):
        (image,) = archive.articles.get(make_item(n).url)["images"]
        assert (image["status"], image["path"]) == ("downloaded", "images/bb/b.png")


def test_images_are_linked_in_body_order(archive: Archive) -> None:
    images = [
        ImageRef(
            url="https://img/a.png",
            src="a.png",
            position=0,
            sha256="a" * 64,
            path="images/aa/a.png",
            size=10,
            status="downloaded",
        ),
        ImageRef(
            url="https://img/b.gif", src="b.gif", position=1, status="failed", error="HTTP 404"
        ),
        ImageRef(
            url="https://img/c.png",
            src="c.png",
            position=2,
            sha256="a" * 64,
            path="images/aa/a.png",
            size=10,
            status="downloaded",
        ),
    ]
    store(archive, make_item(1, images=images))
    shown = archive.articles.get(1)["images"]
    assert [i["src"] for i in shown] == ["a.png", "b.gif", "c.png"]
    assert shown[1]["status"] == "failed"
    assert shown[1]["error"] == "HTTP 404"
    stats = archive.stats.totals()
    assert stats["images"] == 1  # the same bytes at two URLs are one file
    assert stats["image_bytes"] == 10
    assert archive.images.known("https://img/a.png") is not None
    failed = archive.images.known("https://img/b.gif")
    assert failed is not None
    assert (failed.status, failed.error, failed.failures) == ("failed", "HTTP 404", 1)
    assert archive.images.known("https://img/never.png") is None


def test_host_policies_round_trip(archive: Archive) -> None:
    archive.host_policies.save("img.example.com", "article")
    archive.host_policies.save("img.example.com", "root")
    assert archive.host_policies.all() == {"img.example.com": "root"}


def test_runs_are_listed_newest_first(archive: Archive) -> None:
    first = archive.runs.start("crawl")
    archive.runs.finish(first, status="ok", counts={"new": 3}, sources={})
    second = archive.runs.start("run")
    assert [r.id for r in archive.runs.recent()] == [second, first]
    assert archive.runs.get(first).new == 3


def test_concurrent_writers_leave_one_row(archive: Archive) -> None:
    check_concurrent_writers(archive)


def check_concurrent_writers(archive: Archive) -> None:
    item = make_item(9)
    source = archive.sources.ensure(item.source_url, kind="rss")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write() -> None:
        barrier.wait()
        outcomes.append(archive.articles.store(make_item(9), source.id, "guid-9").outcome)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["new", "unchanged", "unchanged", "unchanged"]
    assert len(archive.articles.search(SearchFilters(query="Body 9"))) == 1


def test_unreachable_or_bad_database_urls() -> None:
    with pytest.raises(ConfigurationError, match="no driver for 'nope'"):
        create_archive_engine("nope://x")
    with pytest.raises(DatabaseError, match="does not exist"):
        Archive("sqlite:////no/such/dir/archive.db")
    with pytest.raises(DatabaseError, match="cannot open"):
        Archive("postgresql://127.0.0.1:1/none")


@pytest.mark.postgres
def test_postgresql_archive(postgres_url: str) -> None:
    archive = Archive(postgres_url)
    try:
        assert archive.engine.dialect.name == "postgresql"
        assert store(archive, make_item(1)) == "new"
        assert store(archive, make_item(1)) == "unchanged"
        assert store(archive, make_item(1, content_html="<p>new</p>")) == "updated"
        assert archive.articles.get(1)["categories"] == ["新媒体", "36kr"]
        assert [r["id"] for r in archive.articles.search(SearchFilters(author="张三"))] == [1]
        assert archive.articles.get(1)["published"] == "2021-04-03T06:27:15Z"
        check_concurrent_writers(archive)
        check_migrations_match_models(archive)
        check_a_failure_never_replaces_a_download(archive)
    finally:
        archive.close()


def test_migrations_build_exactly_the_models(archive: Archive) -> None:
    check_migrations_match_models(archive)


def check_migrations_match_models(archive: Archive) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from archiver.storage.models import Base
    from archiver.storage.search import include_name

    with archive.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []

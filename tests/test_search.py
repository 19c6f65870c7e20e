"""Full-text search: the query language, Chinese substrings, ranking, snippets, sync."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.errors import ConfigurationError
from archiver.items import ArticleItem
from archiver.storage import Archive, SearchFilters
from archiver.storage.search import Term, highlight, parse_query, snippet
from tests.test_storage import make_item, store


def test_parse_query_operators() -> None:
    parsed = parse_query(
        '谷歌 "machine learning" -tensorflow -"tf 1" title:Keras author:alice '
        "source:36kr category:资讯 -category:快讯 since:2021-04-01 until:2021-05-01T08:00+08:00 "
        "https://x.example/a"
    )
    assert parsed.terms == [
        Term("谷歌"),
        Term("machine learning"),
        Term("tensorflow", negated=True),
        Term("tf 1", negated=True),
        Term("Keras", "title"),
        Term("https://x.example/a"),
    ]
    assert parsed.authors == ["alice"]
    assert parsed.sources == ["36kr"]
    assert parsed.categories == ["资讯"]
    assert parsed.not_categories == ["快讯"]
    assert parsed.since == datetime(2021, 4, 1, tzinfo=UTC)
    assert parsed.until == datetime(2021, 5, 1, tzinfo=UTC)
    assert parse_query(None).terms == []
    with pytest.raises(ConfigurationError, match="since:yesterday is not a date"):
        parse_query("since:yesterday")


@pytest.fixture
def filled(archive: Archive) -> Archive:
    return fill(archive)


def fill(archive: Archive) -> Archive:
    store(archive, make_item(1, title="Keras，亡于谷歌？", content_text="将 Keras 并入 TensorFlow"))
    store(archive, make_item(2, title="Other news", content_text="谷歌 and tf.keras, in the text"))
    store(
        archive, make_item(3, title="北京时间", content_text="区块链 闪电贷 攻击", authors=["Bob"])
    )
    store(archive, make_item(4, title="谷", content_text="x", categories=["资讯"]))
    return archive


def ids(archive: Archive, query: str, **filters: object) -> list[int]:
    found = archive.articles.search(SearchFilters(query=query, **filters))  # type: ignore[arg-type]
    return [row["id"] for row in found]


def test_chinese_substrings_of_any_length(filled: Archive) -> None:
    assert ids(filled, "闪电贷") == [3]
    assert ids(filled, "亡于谷") == [1]
    assert set(ids(filled, "谷歌")) == {1, 2}  # two characters: through the trigram vocabulary
    assert ids(filled, "谷歌？") == [1]
    assert set(ids(filled, "谷")) == {1, 2, 4}  # one character, and a one-character title
    assert ids(filled, "不存在") == []
    assert ids(filled, "无") == []


def test_english_is_a_case_insensitive_substring(filled: Archive) -> None:
    assert set(ids(filled, "KERAS")) == {1, 2}  # "tf.keras" too
    assert ids(filled, '"tf.keras, in"') == [2]
    assert ids(filled, "keras -tensorflow") == [2]
    assert ids(filled, "-谷歌 -keras") == [4, 3] or ids(filled, "-谷歌 -keras") == [3]


def test_control_characters_separate_words(filled: Archive) -> None:
    """A NUL once ended SQLite's FTS5 string early ("unterminated string")."""
    assert ids(filled, "闪电贷\x00") == [3]
    assert set(ids(filled, "KERAS\x1f\x00")) == {1, 2}


def test_operators_narrow(filled: Archive) -> None:
    assert ids(filled, "title:keras") == [1]
    assert ids(filled, "title:谷歌") == [1]
    assert ids(filled, "谷 category:资讯") == [4]
    assert ids(filled, "author:bob") == [3]
    assert ids(filled, "-author:bob 闪电贷") == []
    assert ids(filled, "keras since:2021-04-04") == [2]
    assert ids(filled, "keras until:2021-04-04") == [1]
    assert ids(filled, "keras source:example.com") != []
    assert ids(filled, "keras source:nope") == []
    assert ids(filled, "100%") == []
    assert ids(filled, "a_b") == []


def test_ranking_title_first_then_newest(archive: Archive) -> None:
    store(archive, make_item(1, title="plain A", content_text="keras " * 3))
    store(archive, make_item(2, title="Keras in the title", content_text="nothing"))
    store(archive, make_item(3, title="plain B", content_text="keras " * 3))
    for n in range(4, 10):  # a word in most documents is worth little to BM25
        store(archive, make_item(n, title="filler", content_text="other words"))
    found = archive.articles.search(SearchFilters(query="keras"))
    assert [row["id"] for row in found] == [2, 3, 1]  # the title wins; equal bodies: newest
    assert found[0]["score"] > found[1]["score"] > 0
    assert found[1]["score"] == found[2]["score"]
    assert archive.articles.search(SearchFilters())[0]["score"] is None


def test_results_keep_the_contract_and_add_score_and_snippet(filled: Archive) -> None:
    row = filled.articles.search(SearchFilters(query="闪电贷"))[0]
    for key in ("id", "url", "title", "published", "author", "authors", "source", "source_url"):
        assert key in row
    assert {"categories", "headimg", "score", "snippet"} <= set(row)
    assert "闪电贷" in row["snippet"]
    result = CliRunner().invoke(
        cli, ["--db", filled.url, "search", "闪电贷", "--format", "json"], catch_exceptions=False
    )
    assert json.loads(result.stdout)[0]["snippet"] == row["snippet"]


def test_the_index_follows_every_write(archive: Archive) -> None:
    store(archive, make_item(1, content_text="第一版 内容"))
    assert ids(archive, "第一版") == [1]
    store(archive, make_item(1, content_html="<p>v2</p>", content_text="第二版 内容"))
    assert ids(archive, "第一版") == []
    assert ids(archive, "第二版") == [1]
    with archive.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("DELETE FROM revisions"))
        connection.execute(text("DELETE FROM article_categories"))
        connection.execute(text("DELETE FROM article_tags"))
        connection.execute(text("DELETE FROM articles"))
        integrity = "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        connection.execute(text(integrity))
    assert ids(archive, "第二版") == []


def test_snippet_and_highlight() -> None:
    long = "前" * 200 + "谷歌" + "后" * 200
    piece = snippet(long, [Term("谷歌")], width=40)
    assert piece.startswith("…")
    assert piece.endswith("…")
    assert "谷歌" in piece
    assert len(piece) == 42
    assert snippet("short text", [Term("absent")]) == "short text"
    assert highlight("Keras 谷歌", [Term("keras")], color=True) == "\x1b[1;33mKeras\x1b[0m 谷歌"
    assert highlight("Keras", [Term("keras")], color=False) == "Keras"


def test_views_read_from_plain_sql(filled: Archive) -> None:
    from sqlalchemy import text

    with filled.engine.connect() as connection:
        rows = connection.execute(text("SELECT title, categories, authors FROM article_list")).all()
        assert ("Keras，亡于谷歌？", "新媒体 / 36kr", "张三") in rows
        assert connection.execute(text("SELECT sum(articles) FROM monthly_stats")).scalar() == 4
        assert connection.execute(text("SELECT articles FROM source_stats")).scalar() == 4


def test_stats_breakdown(filled: Archive) -> None:
    breakdown = filled.stats.breakdown()
    assert breakdown["by_source"]["example.com"]["articles"] == 4
    assert breakdown["by_month"] == {"2021-04": 4}


def test_search_objects_are_left_out_of_autogenerate(archive: Archive) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from archiver.storage.models import Base
    from archiver.storage.search import include_name

    with archive.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.postgres
def test_postgresql_search(postgres_url: str) -> None:
    archive = Archive(postgres_url)
    try:
        fill(archive)
        assert ids(archive, "闪电贷") == [3]
        assert set(ids(archive, "谷歌")) == {1, 2}
        assert set(ids(archive, "KERAS")) == {1, 2}
        assert ids(archive, "keras -tensorflow") == [2]
        assert ids(archive, "title:keras") == [1]
        assert ids(archive, "100%") == []
        assert ids(archive, "it's \\ 'x'; --") == []  # rendered into the SQL, quoted
        row = archive.articles.search(SearchFilters(query="闪电贷"))[0]
        assert row["score"] > 0
        assert "闪电贷" in row["snippet"]
        assert archive.stats.breakdown()["by_month"] == {"2021-04": 4}
        from sqlalchemy import text

        with archive.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM article_list")).scalar() == 4
    finally:
        archive.close()


def test_a_batch_migration_that_copies_articles_keeps_the_index(filled: Archive) -> None:
    """What a later migration must do around ``batch_alter_table("articles")`` on SQLite."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from archiver.storage.search import create_search_objects, drop_search_objects

    with filled.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # SQLite cannot copy tables with
        connection.commit()  # foreign keys enforced (env.py should do the same)
        with connection.begin():
            op = Operations(MigrationContext.configure(connection, opts={"render_as_batch": True}))
            drop_search_objects(op.execute, "sqlite")
            with op.batch_alter_table("articles", recreate="always") as batch:
                batch.add_column(sa.Column("extra", sa.Text(), nullable=True))
            create_search_objects(op.execute, "sqlite")
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
    assert ids(filled, "闪电贷") == [3]
    store(filled, make_item(3, content_html="<p>v2</p>", content_text="新的内容"))
    assert ids(filled, "闪电贷") == []
    assert ids(filled, "新的内容") == [3]
    with filled.engine.begin() as connection:
        check = "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        connection.exec_driver_sql(check)
        assert connection.exec_driver_sql("SELECT count(*) FROM article_list").scalar() == 4


def test_the_table_shows_a_snippet_under_each_row(filled: Archive) -> None:
    result = CliRunner().invoke(
        cli, ["--db", filled.url, "search", "闪电贷"], catch_exceptions=False
    )
    lines = result.stdout.splitlines()
    assert lines[2].split()[0] == "3"
    assert lines[3].startswith("    ")
    assert "闪电贷" in lines[3]
    assert "\x1b[" not in result.stdout  # no colour off a terminal


def test_show_markdown_is_the_hexo_post(filled: Archive) -> None:
    from archiver.export.hexo import show_markdown

    post = show_markdown(filled.articles.get(1))
    assert post.startswith("\n---\ntitle: 'Keras，亡于谷歌？'\ncategories: \n - 新媒体\n - 36kr\n")
    assert "\ndate: Sat, 03 Apr 2021 06:27:15 GMT\n" in post


def test_a_short_term_too_common_for_the_vocabulary_is_scanned(
    filled: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archiver.storage.search as search

    monkeypatch.setattr(search, "MAX_SHORT_EXPANSION", 0)
    assert set(ids(filled, "谷")) == {1, 2, 4}
    assert ids(filled, "谷 -keras") == [4]
    assert filled.articles.search(SearchFilters(query="谷"))[0]["score"] is None  # newest first


def test_a_short_term_common_among_the_newest_articles_is_scanned(
    filled: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a short term is scanned for depends on the archive alone: here 谷 is in
    three of the four articles, 谷歌 in two, and three make a term common."""
    import archiver.storage.search as search

    monkeypatch.setattr(search, "COMMON_HITS", 3)
    assert set(ids(filled, "谷")) == {1, 2, 4}
    assert filled.articles.search(SearchFilters(query="谷"))[0]["score"] is None  # scanned, by date
    assert set(ids(filled, "谷歌")) == {1, 2}
    assert filled.articles.search(SearchFilters(query="谷歌"))[0]["score"] is not None  # ranked
    monkeypatch.setattr(search, "COMMON_WINDOW", 1)  # only the newest article looked at
    assert filled.articles.search(SearchFilters(query="谷"))[0]["score"] is not None


# -- bulk writes: the index is written once per batch ------------------------------------------


def bulk(archive: Archive, items: list[ArticleItem]) -> list[str]:
    source = archive.sources.ensure(items[0].source_url, kind="rss")
    entries = [(item, source.id, item.key or item.url) for item in items]
    return [result.outcome for result in archive.bulk.store(entries)]


def fts_state(archive: Archive, *, switch: bool = True) -> tuple[int, int]:
    """(index segments, rows of the deferred switch), after FTS5's own integrity check;
    ``switch=False`` where the archive has no switch (-1 for its rows)."""
    from sqlalchemy import text

    with archive.engine.begin() as connection:
        check = "INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)"
        connection.execute(text(check))
        segments = connection.execute(
            text("SELECT count(DISTINCT segid) FROM articles_fts_idx")
        ).scalar()
        if not switch:
            return int(segments or 0), -1
        rows = connection.execute(text("SELECT count(*) FROM articles_fts_deferred")).scalar()
    return int(segments or 0), int(rows or 0)


def test_a_bulk_write_indexes_its_articles_in_one_segment(archive: Archive) -> None:
    items = [make_item(n, content_text=f"第{n}篇 闪电贷 keras") for n in range(1, 41)]
    assert bulk(archive, items) == ["new"] * 40
    # One FTS segment for the batch: through the trigger, one INSERT per article wrote one
    # segment each (FTS5 flushes its pending terms at every statement that fires it).
    assert fts_state(archive) == (1, 0)
    assert len(ids(archive, "闪电贷", limit=None)) == 40
    assert ids(archive, "第17篇") == [17]
    assert ids(archive, '"第7篇 闪电"') == [7]
    assert set(ids(archive, "第1")) == {1, *range(10, 20)}  # short: through the vocabulary
    # A batch mixing new, unchanged and changed articles and a repeated identity.
    changed = make_item(3, content_html="<p>v2</p>", content_text="改写 之后")
    again = [
        make_item(41, content_text="新的 一篇"),
        make_item(2, content_text="第2篇 闪电贷 keras"),
    ]
    outcomes = bulk(archive, [*again, changed, make_item(41, content_text="新的 一篇")])
    assert outcomes == ["new", "unchanged", "updated", "unchanged"]
    assert ids(archive, "新的") == [41]
    assert ids(archive, "改写") == [3]
    assert ids(archive, "第3篇") == []
    assert fts_state(archive)[1] == 0


def test_a_failed_bulk_write_leaves_the_index_as_it_was(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    bulk(archive, [make_item(1, content_text="第一篇")])

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    import archiver.storage.bulk as bulk_writer

    monkeypatch.setattr(bulk_writer, "link_images_in_bulk", fail)  # after the index is written
    with pytest.raises(RuntimeError, match="disk full"):
        bulk(archive, [make_item(n, content_text=f"第{n}篇 失败") for n in range(2, 6)])
    monkeypatch.undo()
    assert ids(archive, "失败") == []
    assert fts_state(archive)[1] == 0  # the switch went with the transaction
    store(archive, make_item(9, content_text="一篇 之后"))  # the trigger indexes again
    assert [archive.articles.get(i)["url"] for i in ids(archive, "之后")] == [make_item(9).url]
    assert len(ids(archive, "篇")) == 2
    fts_state(archive)


def test_a_crash_in_a_bulk_write_leaves_the_index_in_step(db_url: str, tmp_path: Path) -> None:
    """The process dies after the articles and their index entries are written, before the
    commit: nothing of the batch remains, and the trigger indexes the next writes."""
    import subprocess
    import sys

    Archive(db_url).close()
    script = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
import archiver.storage.bulk as bulk_writer
from archiver.storage import Archive
from tests.test_storage import make_item

def crash(session, ids):
    original(session, ids)
    session.flush()
    os._exit(3)

original = bulk_writer.index_articles
bulk_writer.index_articles = crash
archive = Archive({db_url!r})
source = archive.sources.ensure("https://example.com/feed.xml", kind="rss")
items = [make_item(n, content_text="崩溃之前") for n in range(1, 6)]
archive.bulk.store([(item, source.id, item.key) for item in items])
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=False)
    assert done.returncode == 3
    archive = Archive(db_url)
    try:
        assert ids(archive, "崩溃") == []
        assert fts_state(archive) == (0, 0)
        assert bulk(archive, [make_item(1, content_text="崩溃之后")]) == ["new"]
        store(archive, make_item(2, content_text="崩溃之后 再一篇"))
        assert set(ids(archive, "崩溃之后")) == {1, 2}
        fts_state(archive)
    finally:
        archive.close()


def test_an_archive_made_before_the_switch_gets_it_and_can_give_it_back(
    tmp_path: Path,
) -> None:
    """Migration 0003 on an archive at 0002 (written through 0002's trigger), then
    downgraded again: both ways the index stays whole and every write is indexed. Rows are
    written at 0002 with SQL, as the code of that time would have (today's models have
    columns that later migrations add)."""
    from alembic import command
    from sqlalchemy import text

    from archiver.storage.db import _alembic_config

    def copy_article(archive: Archive, guid: str, content_text: str) -> None:
        with archive.engine.begin() as connection:
            for statement in (
                "DROP TABLE IF EXISTS temp.copied",
                "CREATE TEMP TABLE copied AS SELECT * FROM articles WHERE id = 1",
                "UPDATE copied SET id = (SELECT max(id) + 1 FROM articles), guid = :guid, "
                "canonical_url = NULL, content_text = :text",
                "INSERT INTO articles SELECT * FROM copied",
            ):
                connection.execute(text(statement), {"guid": guid, "text": content_text})

    url = f"sqlite:///{tmp_path / 'old.db'}"
    archive = Archive(url)
    try:
        store(archive, make_item(1, content_text="第1篇 之前写的"))
        command.downgrade(_alembic_config(archive.engine), "0002")
        copy_article(archive, "at-0002", "第2篇 在0002写的")  # through 0002's trigger
    finally:
        archive.close()
    archive = Archive(url)  # upgraded to head on first use
    try:
        assert (
            bulk(archive, [make_item(n, content_text=f"第{n}篇") for n in range(3, 6)])
            == ["new"] * 3
        )
        assert fts_state(archive)[1] == 0
        assert set(ids(archive, "篇")) == {1, 2, 3, 4, 5}
        command.downgrade(_alembic_config(archive.engine), "0002")
        copy_article(archive, "again", "降级之后")
        fts_state(archive, switch=False)
        with archive.engine.connect() as connection:
            found = connection.execute(
                text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH '\"降级之后\"'")
            ).all()
            tables = connection.execute(
                text("SELECT name FROM sqlite_master WHERE name = 'articles_fts_deferred'")
            ).all()
        assert len(found) == 1  # indexed by 0002's trigger again
        assert tables == []
    finally:
        archive.close()

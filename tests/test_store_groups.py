"""Group commits through the real command: every article once, counted once it is committed,
and a killed crawl leaves whole groups only, which the next crawl completes."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import run_archiver, start_archiver, wait_until
from tests.mocksite.bigsite import big_article, big_feed_paths


def rows_of(db: str, query: str) -> list[Any]:
    """The rows *query* reads from the archive at *db*."""
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query)).all())
    finally:
        engine.dispose()


def stored_categories(db: str) -> dict[str, int]:
    """Each archived article's URL and the number of categories it is filed under."""
    rows = rows_of(
        db,
        "select a.url, count(c.category_id) from articles a "
        "left join article_categories c on c.article_id = a.id group by a.id",
    )
    return {url: int(count) for url, count in rows}


def expected_categories(site: Any, url: str) -> int:
    match = re.search(r"/big/articles/(\d+)/(\d+)\.html$", url)
    assert match, url
    article = big_article(int(match[1]), int(match[2]), base=site.base)
    return len(article.categories)


def test_odd_groups_store_every_article_once(mock_site: Any, tmp_path: Path) -> None:
    """Groups of 7, flushed by count and by time (the last of each feed), across feeds."""
    db = f"sqlite:///{tmp_path / 'a.db'}"
    urls = [mock_site.url(p) for p in big_feed_paths(5)]
    settings = ("-s", "ARCHIVER_STORE_BATCH=7", "-s", "ARCHIVER_STORE_BATCH_SECONDS=0.05")
    first = run_archiver("--db", db, "crawl", "--no-images", *settings, *urls)
    assert first.returncode == 0, first.stderr
    assert " 250 new, 0 updated, 0 unchanged, 0 failed" in first.stdout
    stored = stored_categories(db)
    assert len(stored) == 250
    assert all(count == expected_categories(mock_site, url) for url, count in stored.items())
    again = run_archiver("--db", db, "crawl", "--no-images", *settings, *urls)
    assert " 0 new, 0 updated, 250 unchanged" in again.stdout
    assert len(stored_categories(db)) == 250


def test_a_killed_crawl_leaves_whole_articles_and_the_next_completes_it(
    mock_site: Any, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    urls = [mock_site.url(p) for p in big_feed_paths()]
    settings = ("-s", "ARCHIVER_STORE_BATCH=10", "-s", "ARCHIVER_STORE_BATCH_SECONDS=30")
    process = start_archiver("--db", db, "crawl", "--no-images", *settings, *urls)
    try:
        assert wait_until((tmp_path / "a.db").exists, timeout=60, step=0.05)
        assert wait_until(lambda: _count(db) >= 10, timeout=120, step=0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    stored = stored_categories(db)
    assert 10 <= len(stored) < 1000
    assert len(stored) % 10 == 0  # whole groups: none was committed in part
    assert all(count == expected_categories(mock_site, url) for url, count in stored.items())
    again = run_archiver("--db", db, "crawl", "--no-images", *urls)
    assert again.returncode == 0, again.stderr
    assert f" {1000 - len(stored)} new, 0 updated, {len(stored)} unchanged" in again.stdout
    assert len(stored_categories(db)) == 1000


def _count(db: str) -> int:
    try:
        return len(stored_categories(db))
    except Exception:  # the schema is still being made
        return 0


def stored_sources(db: str) -> list[str]:
    """The source of each archived article, in the order they were stored."""
    query = "select s.url from articles a join sources s on s.id = a.source_id order by a.id"
    return [url for (url,) in rows_of(db, query)]


def test_fetched_feeds_wait_unread_while_others_fill_the_pipelines(
    mock_site: Any, tmp_path: Path
) -> None:
    """With one feed read at a time, a feed's 50 entries reach the archive one after the
    other, the next feed's starting only as its last few are on their way (one article at a
    time through the pipelines, so the order shows it); with three at once, they interleave
    over the whole crawl. Either way every article is archived."""
    urls = [mock_site.url(p) for p in big_feed_paths(3)]
    one_by_one = ("-s", "CONCURRENT_ITEMS=1", "-s", "ARCHIVER_STORE_BATCH=1")
    spans = {}
    for at_once in (1, 3):
        db = f"sqlite:///{tmp_path / f'{at_once}.db'}"
        settings = (*one_by_one, "-s", f"ARCHIVER_FEEDS_READ_AT_ONCE={at_once}")
        result = run_archiver("--db", db, "crawl", "--no-images", *settings, *urls)
        assert result.returncode == 0, result.stderr
        sources = stored_sources(db)
        assert len(sources) == 150
        assert sorted(set(sources)) == sorted(urls)
        # How far apart, in the order stored, each feed's first and last articles are.
        spans[at_once] = max(
            max(i for i, s in enumerate(sources) if s == url)
            - min(i for i, s in enumerate(sources) if s == url)
            for url in urls
        )
    assert spans[1] < 60, spans
    assert spans[3] > 100, spans

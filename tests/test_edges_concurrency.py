"""Crawls at once on one archive: a new archive's schema made once, under a lock, whoever
comes first; both crawls finish; every article once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from archiver.storage import Archive, SearchFilters
from tests.conftest import run_archiver, start_archiver

FEEDS = (
    "/feeds/rss2.xml",
    "/feeds/atom10.xml",
    "/feeds/jsonfeed11.json",
    "/edges/many-images.xml?n=8",
)


def feed_urls(mock_site: Any) -> list[str]:
    return [mock_site.url(path) for path in FEEDS]


def at_once(*commands: list[str], cwd: Path) -> list[tuple[int, str, str]]:
    """Start every command, then wait for each: (exit code, stdout, stderr)."""
    processes: list[subprocess.Popen[str]] = [start_archiver(*c, cwd=cwd) for c in commands]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        results.append((process.returncode, stdout, stderr))
    return results


def archived(url: str) -> list[str]:
    archive = Archive(url)
    try:
        return sorted(row["url"] for row in archive.articles.export(SearchFilters(limit=None)))
    finally:
        archive.close()


def expected_urls(mock_site: Any, tmp_path: Path) -> list[str]:
    """What one crawl alone archives of the feeds."""
    db = f"sqlite:///{tmp_path / 'alone.db'}"
    result = run_archiver(
        "--db", db, "--media", str(tmp_path / "alone-media"), "crawl", *feed_urls(mock_site),
        "--full-text", "never",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return archived(db)


def crawl_args(db: str, media: Path, urls: list[str]) -> list[str]:
    return ["--db", db, "--media", str(media), "crawl", *urls, "--full-text", "never"]


def assert_all_finished(results: list[tuple[int, str, str]]) -> None:
    for code, stdout, stderr in results:
        assert code == 0, stdout + stderr
        assert "locked" not in stderr.lower()
        assert "already exists" not in stderr


def test_two_crawls_at_once_on_a_new_sqlite_archive(mock_site: Any, tmp_path: Path) -> None:
    expected = expected_urls(mock_site, tmp_path)
    db, media = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "media"
    urls = feed_urls(mock_site)
    results = at_once(
        crawl_args(db, media, urls), crawl_args(db, media, list(reversed(urls))), cwd=tmp_path
    )
    assert_all_finished(results)
    assert archived(db) == expected  # each article once
    assert not list(tmp_path.glob("*.migrate-lock"))


def test_a_crawl_and_a_scheduled_run_at_once(mock_site: Any, tmp_path: Path) -> None:
    db, media = f"sqlite:///{tmp_path / 'archive.db'}", tmp_path / "media"
    urls = feed_urls(mock_site)
    for url in urls:
        added = run_archiver("--db", db, "sources", "add", url, "--no-check")
        assert added.returncode == 0, added.stderr
    run = ["--db", db, "--media", str(media), "run", "--all", "--full-text", "never"]
    assert_all_finished(at_once(run, crawl_args(db, media, urls), cwd=tmp_path))
    assert archived(db) == expected_urls(mock_site, tmp_path)


@pytest.mark.postgres
def test_two_crawls_at_once_on_a_new_postgresql_archive(
    mock_site: Any, tmp_path: Path, postgres_url: str
) -> None:
    expected = expected_urls(mock_site, tmp_path)
    media, urls = tmp_path / "media", feed_urls(mock_site)
    results = at_once(
        crawl_args(postgres_url, media, urls),
        crawl_args(postgres_url, media, list(reversed(urls))),
        cwd=tmp_path,
    )
    assert_all_finished(results)
    assert archived(postgres_url) == expected

"""``ARCHIVER_STORIES=false``: the crawl links no copies; ``stories rebuild`` links them later."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Result, run_archiver


def archiver_in(workdir: Path) -> Callable[..., Result]:
    """The real command on the archive and media of *workdir*, which must succeed."""

    def archiver(*args: str) -> Result:
        result = run_archiver(
            "--db", str(workdir / "archive.db"), "--media", str(workdir / "media"), *args
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result

    return archiver


def crawl_copies(mock_site: Any, archiver: Callable[..., Result], *settings: str) -> Any:
    """Crawl the mock site's originals and their noted copies; every archived row."""
    feeds = [mock_site.url(f"/copies/{name}.xml") for name in ("origin", "noted")]
    archiver("crawl", *feeds, "--no-images", "--full-text", "never", *settings)
    return archiver("search", "--limit", "1000", "--format", "json").json()


def test_a_crawl_without_stories_links_none_and_a_rebuild_links_them(
    mock_site: Any, tmp_path: Path
) -> None:
    archiver = archiver_in(tmp_path)
    rows = crawl_copies(mock_site, archiver, "-s", "ARCHIVER_STORIES=false")
    assert len(rows) > 2
    assert {row["story"] for row in rows} == {None}
    archiver("stories", "rebuild")
    rebuilt = archiver("search", "--limit", "1000", "--format", "json").json()
    assert len(rebuilt) == len(rows)
    assert any(row["story"] is not None for row in rebuilt)  # the noted copies of the originals

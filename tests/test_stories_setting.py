"""``ARCHIVER_STORIES=false``: the crawl links no copies; ``stories rebuild`` links them later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import run_archiver


def test_a_crawl_without_stories_links_none_and_a_rebuild_links_them(
    mock_site: Any, tmp_path: Path
) -> None:
    def archiver(*args: str) -> Any:
        result = run_archiver(
            "--db", str(tmp_path / "archive.db"), "--media", str(tmp_path / "media"), *args
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result

    feeds = [mock_site.url(f"/copies/{name}.xml") for name in ("origin", "noted")]
    archiver("crawl", *feeds, "--no-images", "--full-text", "never", "-s", "ARCHIVER_STORIES=false")
    rows = archiver("search", "--limit", "1000", "--format", "json").json()
    assert len(rows) > 2
    assert {row["story"] for row in rows} == {None}
    archiver("stories", "rebuild")
    rebuilt = archiver("search", "--limit", "1000", "--format", "json").json()
    assert len(rebuilt) == len(rows)
    assert any(row["story"] is not None for row in rebuilt)  # the noted copies of the originals

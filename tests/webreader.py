"""An archive for the reader's tests: the mock site crawled through the real command, with
its images, and one article changed once (a revision)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import run_archiver

FEEDS = ("/feeds/rss2.xml", "/feeds/atom10.xml")


@dataclass(frozen=True)
class CrawledArchive:
    db_url: str
    media: Path
    directory: Path

    def cli(self, *args: str) -> Any:
        """``archiver --db ... --media ... ARGS``, its output parsed as JSON."""
        result = run_archiver("--db", self.db_url, "--media", str(self.media), *args)
        assert result.returncode == 0, result.stderr
        return result.json()


def crawl_for_reader(mock_site: Any, directory: Path) -> CrawledArchive:
    """Crawl the changing feed twice (so one article has a revision), then the feeds with
    their images (pages off: the feeds are whole)."""
    db_url = f"sqlite:///{directory / 'archive.db'}"
    media = directory / "media"
    common = ("--db", db_url, "--media", str(media), "crawl", "--full-text", "never")
    changing = mock_site.url("/changing/rss.xml")
    try:
        mock_site.set_changing_version(1)
        assert run_archiver(*common, changing).returncode == 0
        mock_site.set_changing_version(2)
        assert run_archiver(*common, changing).returncode == 0
    finally:
        mock_site.reset()
    # after the changing feed: an article another feed archived first stays that feed's
    result = run_archiver(*common, *(mock_site.url(path) for path in FEEDS))
    assert result.returncode == 0, result.stderr
    return CrawledArchive(db_url, media, directory)

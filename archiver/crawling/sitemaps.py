"""The bookkeeping of a sitemap source in flight, which a worker may hand to another."""

from __future__ import annotations

from dataclasses import dataclass, field

from archiver.crawling.signals import SourceOutcome
from archiver.readers.sitemaps import SitemapEntry


@dataclass
class SitemapCrawl:
    """One sitemap source in flight: the sitemaps read, the pages listed, how the pages went."""

    source_url: str
    outcome: SourceOutcome
    pending_sitemaps: int = 0
    sitemaps: set[str] = field(default_factory=set)
    """Every sitemap URL of the source met so far (an index naming itself is read once)."""
    sitemaps_followed: int = 0
    entries: dict[str, SitemapEntry] = field(default_factory=dict)
    """Pages listed, by canonical URL (a page listed twice keeps its newest date)."""
    errors: list[str] = field(default_factory=list)
    """Problems with the sitemaps themselves."""
    pending_pages: int = 0
    archived: int = 0
    failures: list[str] = field(default_factory=list)
    unchanged: int = 0
    left_out: int = 0
    pages_requested: bool = False

"""The bookkeeping of a sitemap source in flight, which a worker may hand to another."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from archiver.crawling.signals import SourceOutcome
from archiver.items import ArticleItem, MediaRef
from archiver.normalize.urls import canonicalize_url
from archiver.readers.sitemaps import (
    ParsedSitemap,
    SitemapEntry,
    merged,
    newest_first,
    newest_first_key,
)

MAX_SITEMAP_DEPTH = 3
"""Sitemap indexes followed within one another (sitemaps.org allows one level)."""

MAX_REPORTED_FAILURES = 5
"""Failed pages named in a sitemap source's error text; the rest are counted."""


def may_follow(url: str, source_url: str) -> bool:
    """Whether a sitemap of ``source_url`` may lead to ``url``: http(s) links only; ``file:``
    ones only from a sitemap read from disk."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("http", "https") or (
        scheme == "file" and urlsplit(source_url).scheme.lower() == "file"
    )


def fill_from_sitemap(item: ArticleItem, entry: SitemapEntry) -> None:
    """Complete the article of a page a sitemap listed with what its entry says: what the
    page leaves out, a news sitemap may say, and the images an image sitemap names for the
    page are the page's, archived as media."""
    item.title_raw = item.title_raw or entry.news_title
    item.published_raw = item.published_raw or entry.news_published_raw
    item.updated_raw = item.updated_raw or entry.lastmod_raw
    item.categories_raw = item.categories_raw or list(entry.news_keywords)
    named = {media.url for media in item.media}
    item.media += [MediaRef(url, "image:image") for url in entry.images if url not in named]


def add_entry(
    entries: dict[str, SitemapEntry], entry: SitemapEntry, tracking_params: tuple[str, ...]
) -> SitemapEntry | None:
    """Take a sitemap's *entry* into *entries*, keyed by its canonical URL without
    *tracking_params*, merged with the entry listed before for that URL (the newest date
    kept); the entry kept, or None when the URL has no canonical form."""
    key = canonicalize_url(entry.url, tracking_params=tracking_params)
    if key is None:
        return None
    known = entries.get(key)
    entries[key] = kept = merged(known, entry) if known else entry
    return kept


@dataclass
class SitemapCrawl:
    """One sitemap source in flight: the sitemaps read, the pages listed, how the pages went.

    Pure bookkeeping: the spider fetches, and tells it what each sitemap and page gave.
    """

    source_url: str
    outcome: SourceOutcome
    pending_sitemaps: int = 0
    sitemaps: set[str] = field(default_factory=set)
    """Every sitemap URL of the source met so far (an index naming itself is read once)."""
    sitemaps_followed: int = 0
    entries: dict[str, SitemapEntry] = field(default_factory=dict)
    """Pages listed, by canonical URL (a page listed twice keeps its newest date)."""
    listed_in: dict[str, int] = field(default_factory=dict)
    """The capture (index row) of the sitemap that listed each page last, by the page's URL
    as listed: the article's listing capture."""
    errors: list[str] = field(default_factory=list)
    """Problems with the sitemaps themselves."""
    pending_pages: int = 0
    archived: int = 0
    failures: list[str] = field(default_factory=list)
    unchanged: int = 0
    left_out: int = 0
    pages_requested: bool = False

    def follow(
        self,
        sitemap: ParsedSitemap,
        url: str,
        *,
        depth: int,
        max_sitemaps: int,
        tracking_params: tuple[str, ...],
        capture_id: int | None = None,
    ) -> Iterator[str]:
        """Take in the sitemap read at ``url`` (``depth`` indexes below the root; its
        response's capture *capture_id*): a urlset's pages are collected, by canonical URL
        without ``tracking_params``; an index's sitemaps not met before are yielded to be
        read, newest first, while the source has read fewer than ``max_sitemaps``. Each is
        counted pending as it is yielded, until it is :meth:`sitemap_read`."""
        self.outcome.kind = "sitemap"
        self.errors.extend(f"{url}: {error}" for error in sitemap.errors)
        if sitemap.kind == "urlset":
            for entry in sitemap.entries:
                if not may_follow(entry.url, self.source_url):
                    continue
                kept = add_entry(self.entries, entry, tracking_params)
                if kept is not None and capture_id is not None:
                    self.listed_in[kept.url] = capture_id
            return
        if depth >= MAX_SITEMAP_DEPTH:
            self.errors.append(f"{url}: sitemap indexes nested too deep; not followed")
            return
        for entry in newest_first(sitemap.entries):
            if entry.url in self.sitemaps or not may_follow(entry.url, self.source_url):
                continue
            if self.sitemaps_followed >= max_sitemaps:
                self.errors.append(f"more than {max_sitemaps} sitemaps; the oldest were not read")
                break
            self.sitemaps.add(entry.url)
            self.sitemaps_followed += 1
            self.pending_sitemaps += 1
            yield entry.url

    def sitemap_read(self, error: str | None = None) -> None:
        """One sitemap that :meth:`follow` returned is in (or failed with ``error``)."""
        self.pending_sitemaps -= 1
        if error is not None:
            self.errors.append(error)

    def choose_pages(self, archived: Mapping[str, datetime], max_pages: int) -> list[SitemapEntry]:
        """The pages to fetch, newest first, each pending until it is settled: those
        archived (``archived``: when each was last fetched, by URL) and unchanged since (the
        sitemap's date no newer than the archived copy, or no date at all) are counted
        ``unchanged``; past ``max_pages`` the rest are ``left_out``."""
        chosen: list[SitemapEntry] = []
        for key, entry in sorted(self.entries.items(), key=lambda pair: newest_first_key(pair[1])):
            last_fetched = archived.get(key)
            if last_fetched is not None and (entry.date is None or entry.date <= last_fetched):
                self.unchanged += 1
            elif len(chosen) < max_pages:
                chosen.append(entry)
            else:
                self.left_out += 1
        self.pending_pages = len(chosen)
        return chosen

    def interim_outcome(self) -> SourceOutcome:
        """What the source stands as until its pages are in: interrupted (a stand-in,
        ``final`` False, that :meth:`finish` replaces)."""
        interim = SourceOutcome(url=self.source_url, kind="sitemap", status="partial")
        interim.error = "interrupted before its pages were fetched"
        interim.final = False
        return interim

    def settle_page(self, *, archived: bool = False, failure: str | None = None) -> bool:
        """One page is settled (archived, failed with ``failure``, or neither); whether it
        was the last, so that the source is to be reported."""
        if archived:
            self.archived += 1
        if failure is not None:
            self.failures.append(failure)
        self.pending_pages -= 1
        return self.pending_pages == 0

    def finish(self, *, pending_items: int = 0) -> SourceOutcome:
        """The source's outcome, written from its pages: ``ok``; ``partial`` when a sitemap
        or some pages failed; ``failed`` when no page could be archived of those tried, or
        the sitemaps listed nothing because they all failed. Pages unchanged or left out
        are warnings. ``pending_items``: the items still to store after the report."""
        outcome = self.outcome
        outcome.kind = "sitemap"
        outcome.entries = self.archived
        tried = self.archived + len(self.failures)
        problems = list(self.errors)
        if self.failures:
            named = "; ".join(self.failures[:MAX_REPORTED_FAILURES])
            more = len(self.failures) - MAX_REPORTED_FAILURES
            problems.append(
                f"{len(self.failures)} of {tried} pages failed: {named}"
                + (f"; and {more} more" if more > 0 else "")
            )
        nothing_listed = not self.entries and bool(self.errors) and self.sitemaps_followed > 0
        if (tried and not self.archived) or nothing_listed:
            outcome.status = "failed"
        elif problems:
            outcome.status = "partial"
        outcome.error = "; ".join(problems) or None
        if self.unchanged:
            outcome.warnings.append(f"{self.unchanged} pages unchanged since archived")
        if self.left_out:
            outcome.warnings.append(f"{self.left_out} pages left for later crawls")
        outcome.pending_items = pending_items
        return outcome

"""``archiver reprocess``: today's parsing, normalization and extraction over the captures.

Nothing is fetched: the feeds and pages are read from their WARC records, through the same
readers, normalizers and extractor as a crawl (in the crawl's order: the feed's entry, its
front-matter, then its page merged in), and stored through ``archive.articles.store``, so a
changed article keeps its previous version in ``revisions`` and an unchanged one is left
alone. The crawl's pipelines are Scrapy plug-ins (``pipelines/``, which the library never
imports); the few lines of theirs this needs are repeated here, each said where.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.captures.warc import read_record
from archiver.crawling.sitemaps import add_entry, fill_from_sitemap
from archiver.errors import ArchiverError, FeedParseError, PageParseError
from archiver.extract.engine import extract_article
from archiver.extract.merge import head_image_provenance, merge_page
from archiver.extract.rules import SiteRule, source_rule
from archiver.items import ArticleItem, ImageRef, PageFetch
from archiver.media.selection import article_images
from archiver.normalize.article import content_hash, normalize_article, normalize_fields
from archiver.normalize.urls import canonicalize_url
from archiver.readers.feeds import parse_feed
from archiver.readers.sitemaps import SitemapEntry, read_sitemap

logger = logging.getLogger(__name__)

BATCH = 256
"""Pages extracted together (in the worker processes, when there are some)."""
STORE_GROUP = 100
"""Articles stored in one transaction (a group commit, as the crawl's store pipeline)."""


@dataclass
class ReprocessReport:
    """What ``reprocess`` did: the articles chosen, how each went, which changed."""

    articles: int = 0
    """Chosen by the filters."""
    updated: int = 0
    unchanged: int = 0
    new: int = 0
    """Stored under another identity than before (today's identity rules differ)."""
    failed: int = 0
    missing: int = 0
    """No capture holds them (archived before captures, imported, or captures off)."""
    feeds_read: int = 0
    pages_read: int = 0
    changed: list[dict[str, Any]] = field(default_factory=list)
    """The updated articles: ``id``, ``url``, ``title``."""
    errors: list[str] = field(default_factory=list)


@dataclass
class _Work:
    """One article to store: the entry (or page) read again, and its page's capture."""

    target: Any
    item: ArticleItem
    page: Any = None
    sitemap_entry: SitemapEntry | None = None
    """A sitemap's page: the entry of the sitemap that listed it, read again."""


def reprocess(
    archive: Any,
    captures_dir: str | Path,
    filters: Any,
    *,
    rules: Sequence[SiteRule] = (),
    tracking_params: Iterable[str] = (),
    processes: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ReprocessReport:
    """Parse again every article *filters* select from its stored captures and store it.

    *archive* is an ``Archive``; *rules* the site rules (``ARCHIVER_SITE_RULES`` and the
    built-in); *processes* > 0 extracts pages in that many worker processes."""
    report = ReprocessReport()
    targets = archive.captures.targets(filters)
    report.articles = len(targets)
    tracking = tuple(tracking_params)
    by_source: dict[str, list[Any]] = {}
    for target in targets:
        by_source.setdefault(target.source_url, []).append(target)
    executor: Executor | None = None
    if processes > 0 and any(t.page is not None for t in targets):
        import multiprocessing

        # spawn, as the pages pipeline: never fork a process that may hold threads
        executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    try:
        for source_url, chosen in by_source.items():
            work = list(_source_work(archive, captures_dir, source_url, chosen, tracking, report))
            _extract_pages(work, captures_dir, rules, executor, tracking, report)
            for start in range(0, len(work), STORE_GROUP):
                group = work[start : start + STORE_GROUP]
                _store(archive, group, report)
                if progress is not None:
                    progress(len(group))
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
    return report


def _source_work(
    archive: Any,
    captures_dir: str | Path,
    source_url: str,
    targets: list[Any],
    tracking: tuple[str, ...],
    report: ReprocessReport,
) -> Iterator[_Work]:
    """The articles of one source, each with what its captures say: the entry of the latest
    feed capture naming it (every distinct payload of the source's feed is read once,
    oldest first), else its page alone (a page source, a sitemap's page, with the entry of
    the sitemap that last listed it)."""
    entries: dict[str, ArticleItem] = {}
    listed = _sitemap_entries(archive, captures_dir, targets, tracking, report)
    if any(t.source_kind not in ("page", "sitemap") for t in targets):
        seen: set[str] = set()
        for capture in archive.captures.of_source(source_url, ("feed",)):
            if capture.record_type != "response" or capture.status >= 400:
                continue  # a revisit repeats a payload already read
            if capture.payload_digest in seen:
                continue
            seen.add(capture.payload_digest)
            try:
                _status, _headers, body = read_record(
                    captures_dir, capture.warc_file, capture.offset, decoded=True
                )
                feed = parse_feed(
                    body,
                    capture.url,
                    content_type=capture.content_type,
                    fetched_at=capture.fetched_at,
                )
            except (OSError, FeedParseError) as error:
                report.errors.append(f"{capture.url} ({capture.warc_file}): {error}")
                continue
            report.feeds_read += 1
            for entry in feed.entries:
                # as the spider's entries() and attach_source(), then the front-matter pipeline
                entry.base_url = entry.base_url or capture.url
                normalize_article(entry, tracking_params=tracking)
                entries[entry.key or entry.url] = entry  # a later capture's entry wins
                entries[f"url:{entry.url}"] = entry
    for target in targets:
        found = entries.get(target.identity) or entries.get(f"url:{target.url}")
        page = target.page
        if page is not None and page.record_type == "revisit":
            try:
                page = archive.captures.original(page)
            except ArchiverError as error:
                report.errors.append(str(error))
                page = None
        if found is not None:
            _attach_source(found, target)
            yield _Work(target, found, page)
        elif page is not None:
            item = ArticleItem(url=target.url, source_url=target.source_url)
            listing = next(
                (
                    listed[key]
                    for url in (target.url, target.canonical_url, page.url)
                    if url and (key := canonicalize_url(url, tracking_params=tracking))
                    if key in listed
                ),
                None,
            )
            yield _Work(target, item, page, listing)
        else:
            report.missing += 1


def _sitemap_entries(
    archive: Any,
    captures_dir: str | Path,
    targets: list[Any],
    tracking: tuple[str, ...],
    report: ReprocessReport,
) -> dict[str, SitemapEntry]:
    """The entries of the sitemaps that last listed the sitemap pages among *targets*, by
    canonical URL, as the crawl keyed them (``SitemapCrawl.follow``): each sitemap capture
    read once (a revisit through the response it repeats)."""
    listed: dict[str, SitemapEntry] = {}
    read: set[tuple[str, int]] = set()
    for target in targets:
        capture = target.listing
        if target.source_kind != "sitemap" or capture is None or capture.kind != "sitemap":
            continue
        try:
            original = archive.captures.original(capture)
        except ArchiverError as error:
            report.errors.append(str(error))
            continue
        if (original.warc_file, original.offset) in read:
            continue
        read.add((original.warc_file, original.offset))
        try:
            _status, _headers, body = read_record(
                captures_dir, original.warc_file, original.offset, decoded=True
            )
            sitemap = read_sitemap(body, original.url)
        except (OSError, FeedParseError) as error:
            report.errors.append(f"{original.url} ({original.warc_file}): {error}")
            continue
        if sitemap is None or sitemap.kind != "urlset":
            continue
        for entry in sitemap.entries:
            add_entry(listed, entry, tracking)
    return listed


def _attach_source(item: ArticleItem, target: Any) -> None:
    """The source's settings on an item, as ``SourceSpider.attach_source``."""
    item.source_url = target.source_url
    item.source_kind = (
        item.source_kind if target.source_kind not in ("page", "sitemap") else target.source_kind
    )
    item.source_categories = list(target.categories)
    item.source_timezone = target.timezone
    item.source_full_text = target.full_text
    item.source_content_selectors = list(target.content_selectors)
    item.source_remove_selectors = list(target.remove_selectors)


def _extract_pages(
    work: list[_Work],
    captures_dir: str | Path,
    rules: Sequence[SiteRule],
    executor: Executor | None,
    tracking: tuple[str, ...],
    report: ReprocessReport,
) -> None:
    """Extract the page of every unit that has one, in batches (in the worker processes)."""
    pending = [unit for unit in work if unit.page is not None]
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        jobs = []
        for unit in batch:
            page = unit.page
            own = source_rule(page.url, unit.target.content_selectors, unit.target.remove_selectors)
            jobs.append(
                (
                    str(captures_dir),
                    page.warc_file,
                    page.offset,
                    page.url,
                    page.content_type,
                    page.fetched_at,
                    [own, *rules] if own else list(rules),
                )
            )
        results = (
            executor.map(_extract_job, jobs) if executor is not None else map(_extract_job, jobs)
        )
        for unit, result in zip(batch, results, strict=True):
            report.pages_read += 1
            _apply_page(unit, result, tracking)


def _extract_job(job: tuple[Any, ...]) -> ArticleItem | str:
    """Read one page's capture and extract it (in a worker process): the raw item, or why
    not."""
    directory, warc_file, offset, url, content_type, fetched_at, rules = job
    try:
        _status, _headers, body = read_record(directory, warc_file, offset, decoded=True)
        return extract_article(
            body, url, content_type=content_type, fetched_at=fetched_at, rules=rules
        )
    except (OSError, PageParseError) as error:
        return str(error) or type(error).__name__


def _apply_page(unit: _Work, page: ArticleItem | str, tracking: tuple[str, ...]) -> None:
    """Merge the page into the unit's entry as ``ArticlePagesPipeline.merge`` does (or make
    it the article, for a page source)."""
    capture = unit.page
    fetch = PageFetch(
        status="kept", reason="reprocess", url=capture.url, attempted_at=capture.fetched_at
    )
    if isinstance(page, str):
        unit.item.page = PageFetch(status="failed", reason="reprocess", error=page)
        unit.page = None
        return
    if unit.target.source_kind in ("page", "sitemap") and not unit.item.title_raw:
        # the page is the article (spiders' read_page, fill_from_sitemap for a sitemap's
        # page, then the front-matter pipeline)
        page.page = fetch
        page.source_kind = unit.target.source_kind
        if unit.sitemap_entry is not None:
            fill_from_sitemap(page, unit.sitemap_entry)
        _attach_source(page, unit.target)
        normalize_article(page, tracking_params=tracking)
        unit.item = page
        return
    item = unit.item
    if merge_page(item, page) is not None:  # the page was not taken, as in the crawl
        item.page = fetch
        return
    item.page = fetch
    normalize_fields(item)
    if (origin := head_image_provenance(item)) is not None:
        item.provenance["headimg"] = origin
    item.content_hash = content_hash(item)


def _store(archive: Any, group: list[_Work], report: ReprocessReport) -> None:
    """Store a group of articles in one transaction, with what the archive holds of the
    images they show (one query for the group)."""
    shown = [article_images(unit.item) for unit in group]
    asked = [
        ref.url
        for unit, images in zip(group, shown, strict=True)
        for ref in images
        if ref.status != "skipped" and ref.url not in unit.target.images
    ]
    held = archive.images.known_many(asked) if asked else {}
    entries = []
    for unit, images in zip(group, shown, strict=True):
        item = unit.item
        if item.page is not None and item.page.status == "failed":
            report.errors.append(f"page of {item.url}: {item.page.error}")
            item.page = None  # the page's state in the archive stays as the crawl left it
        item.images = _known_images(images, unit.target.images, held)
        entries.append((item, unit.target.source_id, item.key or item.url))
    results = archive.articles.store_many(entries, reparsed=True)
    for (item, _source_id, _identity), result in zip(entries, results, strict=True):
        if isinstance(result, ArchiverError):  # this article's own failure
            report.failed += 1
            report.errors.append(f"{item.url}: {result}")
        elif isinstance(result, Exception):  # the database's, not the article's
            raise result
        elif result.outcome == "unchanged":
            report.unchanged += 1
        else:
            if result.outcome == "updated":
                report.updated += 1
            else:
                report.new += 1
            report.changed.append({"id": result.article_id, "url": item.url, "title": item.title})


def _known_images(
    images: list[ImageRef], shown: dict[str, ImageRef], held: dict[str, ImageRef]
) -> list[ImageRef]:
    """The images an article shows, as the archive holds them (*shown*: those it showed
    before; *held*: what the archive said of the others): nothing is downloaded; an image
    never fetched stays ``pending`` (the next crawl fetches it), a failed one as it was
    (``deferred``)."""
    for ref in images:
        if ref.status == "skipped":
            continue
        known = shown.get(ref.url) or held.get(ref.url)
        if known is None or known.status == "pending":
            continue  # pending: a row without a download, which the next crawl fetches
        ref.status, ref.sha256, ref.path = known.status, known.sha256, known.path
        ref.media_type, ref.width, ref.height, ref.size = (
            known.media_type,
            known.width,
            known.height,
            known.size,
        )
        ref.error, ref.failures, ref.last_attempt = known.error, known.failures, known.last_attempt
        if ref.status == "failed":
            ref.status = "deferred"  # not tried again here: the archive keeps its record
    return images

"""Signals the archiver's spiders send, beside Scrapy's own."""

from __future__ import annotations

from dataclasses import dataclass, field

source_fetched = object()
"""A source was fetched (or failed to be): sent once per source with a ``SourceOutcome``
as ``outcome``. The store pipeline records it; spiders never touch the database."""


@dataclass
class SourceOutcome:
    """How fetching and parsing one source went."""

    url: str
    """The source's URL as it was given (before redirects)."""
    kind: str = "unknown"
    status: str = "ok"
    """``ok``, ``partial`` (read with errors, entries recovered), ``failed``, ``not_modified``."""
    error: str | None = None
    entries: int = 0
    empty_entries: int = 0
    """Entries of the feed skipped because they said nothing (``ParsedFeed.skipped_empty``)."""
    title: str | None = None
    link: str | None = None
    final_url: str | None = None
    """Where redirects led, when elsewhere."""
    moved_to: str | None = None
    """Where permanent redirects only (301/308) led: the source moved for good."""
    etag: str | None = None
    last_modified: str | None = None
    warnings: list[str] = field(default_factory=list)
    http_status: int | None = None
    ttl_minutes: int | None = None
    """The feed's ``<ttl>``."""
    max_age: int | None = None
    """``Cache-Control: max-age`` of the response, in seconds."""
    retry_after: int | None = None
    """``Retry-After`` of a 429/503 response, in seconds."""
    waits: list[dict[str, object]] = field(default_factory=list)
    """The waits before the source answered (``archiver.crawling.patience``): ``url``,
    ``status``, ``waited`` seconds, ``reason`` (``retry-after``, ``backoff``)."""
    pending_items: int = 0
    """Items of this source that the reporting process yields after this outcome (a feed's
    entries, a page's article). ``archiver worker`` records the source once they are
    stored; a one-process crawl records every source at its end and ignores it."""
    final: bool = True
    """False for a stand-in sent while a sitemap source's pages are still being fetched."""
    lease_owner: str | None = None
    """The lease the source was fetched under, released when it is recorded (``archiver
    worker``, where the worker that records a source may not be the one that leased it)."""

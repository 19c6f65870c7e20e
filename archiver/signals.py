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
    title: str | None = None
    link: str | None = None
    final_url: str | None = None
    """Where redirects led, when elsewhere."""
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

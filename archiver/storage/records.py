"""The plain dataclasses the archive hands out and takes in; no SQLAlchemy, no ORM objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

StoreOutcome = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class StoreResult:
    article_id: int
    outcome: StoreOutcome


@dataclass(frozen=True)
class SourceRecord:
    id: int
    name: str
    url: str
    kind: str
    categories: list[str]
    timezone: str | None
    title: str | None = None
    crawl_interval: int | None = None
    current_interval: int | None = None
    enabled: bool = True
    etag: str | None = None
    last_modified: str | None = None
    next_due_at: datetime | None = None
    last_crawled_at: datetime | None = None
    last_status: str | None = None
    last_error: str | None = None
    error_count: int = 0
    fetch_url: str | None = None
    """Where the source moved for good (a permanent redirect), fetched instead of ``url``."""
    full_text: str | None = None
    """When its entries' pages are fetched (``auto``, ``always``, ``never``); None: the crawl's."""
    content_selectors: list[str] = field(default_factory=list)
    """Its own site rule: where its pages keep the article."""
    remove_selectors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The source as a listing's JSON object (times in ISO 8601 UTC)."""
        row = asdict(self)
        for key in ("next_due_at", "last_crawled_at"):
            row[key] = iso_utc(row[key])
        return row


@dataclass
class SearchFilters:
    """What ``search`` and the exports select; every field narrows the result."""

    query: str | None = None
    source: str | None = None
    category: str | None = None
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = 50
    collapse: bool = False
    """One article per story of copies: its origin when it matches, else its first match."""


@dataclass
class RunRecord:
    id: int
    command: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    new: int
    updated: int
    unchanged: int
    failed: int
    not_modified: int
    images: int
    bytes: int
    sources: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The run as ``archiver runs --format json`` lists it (times in ISO 8601 UTC)."""
        row = asdict(self)
        for key in ("started_at", "finished_at"):
            row[key] = iso_utc(row[key])
        return row


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, the form every JSON listing uses."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class PageState:
    """What the archive knows of an article's page: whether a crawl should fetch it again."""

    article_id: int
    own: bool
    """Archived from this source; False: reached through another feed (whose copy stays)."""
    entry_hash: str | None
    """The digest of the feed entry the page was fetched for."""
    content_source: str | None
    status: str | None
    """``fetched``, ``failed`` or None (never fetched)."""
    error: str | None
    failures: int
    attempted_at: datetime | None
    url: str | None
    etag: str | None
    last_modified: str | None

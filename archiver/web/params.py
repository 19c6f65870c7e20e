"""What every listing takes from the request: the query and filters of ``archiver search``,
the page cursor and size, read once (one dependency for pages, API and feeds)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query

from archiver.storage import SearchFilters
from archiver.storage.search import parse_query_date

MAX_LIMIT = 200
ISO_DATE = (
    r"^\s*(\d{4}-\d{2}-\d{2}"
    r"([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?\s*$"
)
"""An ISO 8601 date, or date and time (what ``since:`` and ``until:`` take), or nothing (the
search form sends its empty fields)."""


@dataclass(frozen=True)
class Listing:
    """A listing's request: the filters and where the page starts."""

    q: str | None
    source: str | None
    category: str | None
    author: str | None
    since: str | None
    until: str | None
    after: str | None
    limit: int

    def filters(self, limit: int | None = None) -> SearchFilters:
        """The storage's filters (ConfigurationError for a date that is none)."""
        return SearchFilters(
            query=self.q,
            source=self.source,
            category=self.category,
            author=self.author,
            since=parse_query_date(self.since, "since") if self.since else None,
            until=parse_query_date(self.until, "until") if self.until else None,
            limit=limit if limit is not None else self.limit,
        )

    def params(self, **changes: str | None) -> dict[str, str]:
        """The query string's parameters, with *changes* (None removes one); the cursor is
        dropped unless changed, since a change of filter starts again at page 1."""
        values = {
            "q": self.q,
            "source": self.source,
            "category": self.category,
            "author": self.author,
            "since": self.since,
            "until": self.until,
            "after": None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    def link(self, path: str = "/", **changes: str | None) -> str:
        """*path* with this listing's query string, changed by *changes*."""
        query = urlencode(self.params(**changes))
        return f"{path}?{query}" if query else path

    def with_limit(self, limit: int) -> Listing:
        return replace(self, limit=limit)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def listing(
    q: Annotated[
        str | None,
        Query(max_length=1000, description="A query in the language of `archiver search`."),
    ] = None,
    source: Annotated[str | None, Query(max_length=2048, description="Source name or URL.")] = None,
    category: Annotated[str | None, Query(max_length=500)] = None,
    author: Annotated[str | None, Query(max_length=500, description="A substring.")] = None,
    since: Annotated[
        str | None,
        Query(max_length=64, pattern=ISO_DATE, description="Published at or after (ISO 8601)."),
    ] = None,
    until: Annotated[
        str | None,
        Query(max_length=64, pattern=ISO_DATE, description="Published before (ISO 8601)."),
    ] = None,
    after: Annotated[
        str | None, Query(max_length=400, description="The cursor of the page before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Listing:
    """The listing dependency."""
    return Listing(
        q=_clean(q),
        source=_clean(source),
        category=_clean(category),
        author=_clean(author),
        since=_clean(since),
        until=_clean(until),
        after=_clean(after),
        limit=limit,
    )

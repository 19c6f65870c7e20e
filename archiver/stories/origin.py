"""Which copy of a story is its origin: the written rule, over plain records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Copy:
    """What the origin rule reads of one copy."""

    id: int
    url: str
    canonical_url: str | None
    origin_url: str | None
    """The origin the copy declares (an editor's note's link, a re-publisher's field)."""
    published: datetime | None
    first_seen: datetime


def choose_origin(copies: Sequence[Copy]) -> int:
    """The id of the origin among *copies* (at least one), by the rule, in order:

    1. a copy that another copy declares as its origin (``origin_url`` names its URL or
       canonical URL);
    2. a copy that another copy names as its canonical link;
    3. the earliest published (undated copies after dated ones), then the first archived,
       then the lowest id.

    Each step only narrows: two copies both declared as origins are told apart by the next.
    """
    if not copies:
        raise ValueError("a story has at least one copy")

    def own(copy: Copy) -> set[str]:
        return {_url_key(u) for u in (copy.url, copy.canonical_url) if u}

    def named_by_others(copy: Copy, attribute: str) -> bool:
        names = own(copy)
        return any(
            other.id != copy.id
            and (value := getattr(other, attribute))
            and _url_key(value) in names
            and _url_key(value) not in own(other)
            for other in copies
        )

    def rank(copy: Copy) -> tuple[bool, bool, bool, datetime, datetime, int]:
        return (
            not named_by_others(copy, "origin_url"),
            not named_by_others(copy, "canonical_url"),
            copy.published is None,
            copy.published or copy.first_seen,
            copy.first_seen,
            copy.id,
        )

    return min(copies, key=rank).id


def _url_key(url: str) -> str:
    """A URL as compared here: without its scheme, ``www.``, fragment and trailing slash."""
    rest = url.strip().split("://", 1)[-1].split("#", 1)[0].rstrip("/")
    host, slash, path = rest.partition("/")
    return host.lower().removeprefix("www.") + slash + path

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
    owns = [{_url_key(u) for u in (copy.url, copy.canonical_url) if u} for copy in copies]

    def named_by_others(attribute: str) -> list[bool]:
        # Linear in the copies (a story may hold thousands): which copies name each key, then
        # a copy is named when a key of its own is named by a copy other than itself.
        namers: dict[str, set[int]] = {}
        for other, own in zip(copies, owns, strict=True):
            value = getattr(other, attribute)
            if value and (key := _url_key(value)) not in own:
                namers.setdefault(key, set()).add(other.id)
        return [
            any(key in namers and namers[key] - {copy.id} for key in own)
            for copy, own in zip(copies, owns, strict=True)
        ]

    declared, canonical = named_by_others("origin_url"), named_by_others("canonical_url")

    def rank(index: int) -> tuple[bool, bool, bool, datetime, datetime, int]:
        copy = copies[index]
        return (
            not declared[index],
            not canonical[index],
            copy.published is None,
            copy.published or copy.first_seen,
            copy.first_seen,
            copy.id,
        )

    return copies[min(range(len(copies)), key=rank)].id


def _url_key(url: str) -> str:
    """A URL as compared here: without its scheme, ``www.``, fragment and trailing slash."""
    rest = url.strip().split("://", 1)[-1].split("#", 1)[0].rstrip("/")
    host, slash, path = rest.partition("/")
    return host.lower().removeprefix("www.") + slash + path

"""When a source is next due: intervals, feed hints (ttl, max-age, Retry-After), back-off."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from archiver.errors import ConfigurationError

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400,
    "w": 604800,
}  # fmt: skip

DEFAULT_INTERVAL = 3600
MIN_INTERVAL = 60
"""No source is polled more often than this, whatever it asks for."""
MAX_INTERVAL = 7 * 86400
"""Back-off and slow feeds stop growing the interval here."""


def parse_interval(text: str) -> int:
    """``30m``, ``1h``, ``1d``, ``90`` (seconds) → seconds; a ConfigurationError otherwise."""
    match = _INTERVAL.match(text or "")
    if not match:
        raise ConfigurationError(f"{text!r} is not an interval (use 30m, 1h, 1d or seconds)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds < MIN_INTERVAL:
        raise ConfigurationError(f"{text!r} is shorter than the minimum interval of 1m")
    return int(seconds)


def format_interval(seconds: int | None) -> str:
    if not seconds:
        return ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class FetchHints:
    """What a fetch said about when to come back."""

    ttl_minutes: int | None = None
    """RSS ``<ttl>``."""
    max_age: int | None = None
    """``Cache-Control: max-age`` seconds."""
    retry_after: int | None = None
    """``Retry-After`` seconds (429 or 503)."""


def parse_cache_control(value: str | None) -> int | None:
    """The ``max-age`` of a Cache-Control header, in seconds."""
    if not value:
        return None
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    return int(match.group(1)) if match else None


def parse_retry_after(value: str | None, now: datetime | None = None) -> int | None:
    """``Retry-After`` as seconds from *now*: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0, int((when - now).total_seconds()))


def next_interval(
    current: int | None,
    *,
    configured: int | None,
    new_entries: int,
    failed: bool,
    error_count: int,
) -> int:
    """The adapted interval after a crawl, kept between bounds.

    A source that failed backs off exponentially (2, 4, 8... times its interval); one that
    brought new entries is polled sooner (down to half its configured interval); a quiet one
    a little later (up to four times it).
    """
    base = configured or DEFAULT_INTERVAL
    current = current or base
    if failed:
        interval = base * (1 << min(error_count, 10))
    elif new_entries:
        interval = max(base // 2, int(current * 0.75))
    else:
        interval = min(base * 4, int(current * 1.25) + 1)
    return max(MIN_INTERVAL, min(MAX_INTERVAL, interval))


def next_due(now: datetime, interval: int, hints: FetchHints) -> datetime:
    """When to crawl again: the interval, pushed later by whatever the server asked for."""
    wait = interval
    if hints.ttl_minutes:
        wait = max(wait, hints.ttl_minutes * 60)
    if hints.max_age:
        wait = max(wait, min(hints.max_age, MAX_INTERVAL))
    if hints.retry_after:
        wait = max(wait, min(hints.retry_after, MAX_INTERVAL))
    return now + timedelta(seconds=wait)

"""What reading a date gives: ParsedDate, the rule that decided its zone, its flags and limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

RULE_EXPLICIT = "explicit"
RULE_SOURCE = "source"
RULE_LANGUAGE = "language"
RULE_UTC = "utc"
RULE_RELATIVE = "relative"
RULE_EPOCH = "epoch"

FLAG_UNPARSEABLE = "unparseable"
FLAG_FUTURE = "future"
"""More than ``FUTURE_TOLERANCE`` after ``now``."""
FLAG_BEFORE_1990 = "before-1990"
FLAG_DATE_ONLY = "date-only"
"""No time of day was given: midnight in the source's zone."""
FLAG_YEAR_INFERRED = "year-inferred"
"""No year was given (``4月2日``): the most recent such date not after ``now``."""
FLAG_AMBIGUOUS_ZONE = "ambiguous-zone"
"""The zone abbreviation has several meanings (``CST``, ``IST``); see the package docstring."""
FLAG_UNKNOWN_ZONE = "unknown-zone"
"""A zone name was given that we do not know: the date is read as if it had none."""

FUTURE_TOLERANCE = timedelta(days=1)
YEAR_INFERENCE_SKEW = timedelta(minutes=15)
"""A year-less date this far after ``now`` still counts as this year (clock skew)."""
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
MAX_DATE_CHARS = 200
"""Longer strings are not dates (and would only cost time)."""


@dataclass(frozen=True)
class ParsedDate:
    """A date as read: the UTC instant beside the raw string and how its zone was decided."""

    value: datetime | None
    """Aware, in UTC; None when unreadable."""
    raw: str | None
    """The input, unchanged."""
    rule: str | None
    """How the zone was decided: ``explicit`` (the string had an offset or zone), ``source``
    (the configured zone), ``language`` (inferred from language/region), ``utc`` (fallback),
    ``relative`` (relative to the fetch time) or ``epoch``; None when unreadable."""
    flags: tuple[str, ...] = ()
    """``unparseable``, ``future``, ``before-1990``, ``date-only``, ``year-inferred``,
    ``ambiguous-zone``, ``unknown-zone``."""

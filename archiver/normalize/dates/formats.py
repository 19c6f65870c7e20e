"""The absolute date formats: epochs, ISO 8601, Chinese and Korean dates, dateutil's many."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_timezone

from dateutil import parser as dateutil_parser

from archiver.normalize.dates.context import Reading, ReadingContext
from archiver.normalize.dates.result import FLAG_DATE_ONLY, FLAG_YEAR_INFERRED, YEAR_INFERENCE_SKEW

_ZONE = r"(?P<zone>[Zz]|(?:UTC|GMT|UT)?\s?[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})"
_TIME = (
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?"
)
_ISO = re.compile(
    rf"(?P<year>\d{{4}})(?:(?P<sep>[-/.])(?P<month>\d{{1,2}})(?:(?P=sep)(?P<day>\d{{1,2}}))?)?"
    rf"(?:(?:[Tt]\s*|\s+)(?:(?P<period>上午|下午|오전|오후)\s*)?{_TIME})?\s*{_ZONE}?"
)
_COMPACT = re.compile(
    r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
    r"(?:[Tt ]?(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?(?:[.,](?P<fraction>\d+))?)?"
    rf"\s*{_ZONE}?"
)
_MONTH_DAY = re.compile(rf"(?P<month>\d{{1,2}})[-/](?P<day>\d{{1,2}})\s+{_TIME}\s*{_ZONE}?")
_CHINESE = re.compile(
    r"(?:(?P<year>\d{4}|\d{2})\s*[年년]\s*)?(?P<month>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日号일]?"
    r"\s*(?:(?:星期|周|礼拜)[一二三四五六日天七])?\s*,?"
    r"\s*(?P<period>上午|早上|早晨|凌晨|中午|下午|傍晚|晚上|夜间|夜里|오전|오후|[AaPp][Mm])?"
    r"\s*(?:(?P<hour>\d{1,2})\s*(?::|时|點|点)\s*"
    r"(?:(?P<minute>\d{1,2})\s*分?\s*(?::?\s*(?P<second>\d{1,2})\s*秒?)?)?)?"
    r"\s*(?P<period2>[AaPp][Mm])?"
    rf"\s*{_ZONE}?"
)
_EPOCH = re.compile(r"(?P<seconds>\d{10})(?:\.(?P<fraction>\d+))?|(?P<millis>\d{13})")


_PM_PERIODS = {"下午", "晚上", "傍晚", "夜间", "夜里", "오후", "pm"}


def twelve_hour(hour: int, period: str | None) -> int:
    """``hour`` on the 24-hour clock, given an AM/PM or 上午/下午 marker."""
    if not period:
        return hour
    marker = period.lower().replace(".", "")
    if (marker in _PM_PERIODS or marker == "pm") and hour < 12:
        return hour + 12
    if marker in {"am", "凌晨", "上午", "早上", "早晨", "오전"} and hour == 12:
        return 0
    if marker == "中午" and hour < 6:
        return hour + 12
    return hour


def _microseconds(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def _build(
    context: ReadingContext,
    year: int,
    month: int,
    day: int,
    match: re.Match[str],
    *,
    period: str | None = None,
) -> Reading | None:
    """A reading from matched fields (hour/minute/second/fraction/zone groups if present)."""
    groups = match.groupdict()
    hour = int(groups.get("hour") or 0)
    minute = int(groups.get("minute") or 0)
    second = int(groups.get("second") or 0)
    if groups.get("hour") is None:
        context.flag(FLAG_DATE_ONLY)
    hour = twelve_hour(hour, period or groups.get("ampm") or groups.get("period2"))
    extra = timedelta()
    if hour == 24 and minute == 0 and second == 0:  # ISO 8601's end of day
        hour, extra = 0, timedelta(days=1)
    if second == 60:  # a leap second
        second = 59
    naive = datetime(year, month, day, hour, minute, second, _microseconds(groups.get("fraction")))
    naive += extra
    zone_text = groups.get("zone")
    if zone_text:
        zone = context.zone_named(zone_text)
        if zone is not None:
            return naive.replace(tzinfo=zone), "explicit"
    return naive, "naive"


def read_epoch(text: str, context: ReadingContext) -> Reading | None:
    """A Unix epoch: 10 digits of seconds (perhaps with a fraction), or 13 of milliseconds."""
    match = _EPOCH.fullmatch(text)
    if not match:
        return None
    if match.group("millis"):
        seconds = int(match.group("millis")) / 1000
    else:
        seconds = int(match.group("seconds")) + float(f"0.{match.group('fraction') or 0}")
    return datetime.fromtimestamp(seconds, UTC), "epoch"


def read_iso(text: str, context: ReadingContext) -> Reading | None:
    """ISO 8601 / W3C-DTF, extended or compact; a bare year or year-month is its first day."""
    match = _ISO.fullmatch(text) or _COMPACT.fullmatch(text)
    if not match:
        return None
    groups = match.groupdict()
    if groups.get("sep") in {"/", "."} and groups.get("day") is None:
        return None
    if groups.get("zone") and groups.get("hour") is None:
        return None  # ISO 8601 has no zone on a bare date: "2013-01-27-01" is something else
    if groups.get("month") is None or groups.get("day") is None:
        if groups.get("hour") is not None:
            return None
        context.flag(FLAG_DATE_ONLY)  # W3C-DTF "2021" or "2021-04": the period's first day
    month, day = int(groups.get("month") or 1), int(groups["day"] or 1)
    return _build(context, int(groups["year"]), month, day, match, period=groups.get("period"))


def _infer_year(
    context: ReadingContext, month: int, day: int, match: re.Match[str]
) -> Reading | None:
    """The most recent (month, day, time) not after ``now`` in the source's zone."""
    zone, _ = context.local_zone()
    local_now = context.now.astimezone(zone).replace(tzinfo=None)
    context.flag(FLAG_YEAR_INFERRED)
    for year in range(local_now.year, local_now.year - 9, -1):
        try:
            period = match.groupdict().get("period")
            reading = _build(context, year, month, day, match, period=period)
        except ValueError:  # 2月29日 outside a leap year
            continue
        if reading is None:
            return None
        moment, kind = reading
        comparable = moment if kind == "naive" else moment.astimezone(zone).replace(tzinfo=None)
        if comparable <= local_now + YEAR_INFERENCE_SKEW:
            return reading
    return None


def read_chinese(text: str, context: ReadingContext) -> Reading | None:
    """Chinese and Korean dates (``2021年4月2日 下午2点``, ``2004년 05월 28일``), year or not."""
    match = _CHINESE.fullmatch(text)
    if not match:
        return None
    groups = match.groupdict()
    month, day = int(groups["month"]), int(groups["day"])
    if groups["year"] is None:
        return _infer_year(context, month, day, match)
    year = int(groups["year"])
    if year < 100:
        year += 2000
    return _build(context, year, month, day, match, period=groups["period"])


def read_month_day(text: str, context: ReadingContext) -> Reading | None:
    """``04-02 14:27`` (a listing's date of this year, common on Chinese sites)."""
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        return None
    return _infer_year(context, int(match.group("month")), int(match.group("day")), match)


_MONTH_NAME = re.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])"
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b")
_DAY_FIRST_LANGUAGES = frozenset(
    ("fr", "de", "es", "it", "pt", "nl", "ru", "pl", "tr", "el", "cs", "da", "sv", "nb", "fi")
)
_DAY_FIRST_REGIONS = frozenset(("gb", "uk", "au", "nz", "ie", "in", "za", "sg"))
_PROBE_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


def _day_first(language: str | None) -> bool:
    if not isinstance(language, str):
        return False
    subtags = language.strip().lower().replace("_", "-").split("-")
    if len(subtags) > 1 and subtags[1] in _DAY_FIRST_REGIONS:
        return True
    return subtags[0] in _DAY_FIRST_LANGUAGES


def read_dateutil(text: str, context: ReadingContext) -> Reading | None:
    """Everything else python-dateutil reads: RFC 822/1123, "April 2, 2021 2:27 PM EDT"..."""
    if not (re.search(r"\d{4}", text) or _MONTH_NAME.search(text) or _NUMERIC_DATE.search(text)):
        return None  # dateutil reads "1 2 3" as a date; demand a year, a month name or d/m/y
    zone_names: list[str | None] = []

    def tzinfos(name: str | None, offset: int | None) -> tzinfo | None:
        zone_names.append(name)
        if offset is not None:
            if offset == 0:
                return UTC
            return fixed_timezone(timedelta(seconds=offset))
        return context.zone_named(name) if name else None

    day_first = _day_first(context.language)
    readings = []
    for default in _PROBE_DEFAULTS:
        zone_names.clear()
        readings.append(
            dateutil_parser.parse(text, default=default, tzinfos=tzinfos, dayfirst=day_first)
        )
    first, second = readings
    has_year, has_month, has_day = (
        first.year == second.year,
        first.month == second.month,
        first.day == second.day,
    )
    if not (has_month and has_day):
        return None
    if first.tzinfo is not None:
        context.explicit = True
    if not has_year:  # "Apr 2 14:27": the most recent such date
        reading = first
        zone, _ = context.local_zone()
        local_now = context.now.astimezone(zone)
        context.flag(FLAG_YEAR_INFERRED)
        for year in range(local_now.year, local_now.year - 9, -1):
            try:
                candidate = reading.replace(year=year)
            except ValueError:
                continue
            aware = candidate if candidate.tzinfo else candidate.replace(tzinfo=zone)
            if aware <= context.now + YEAR_INFERENCE_SKEW:
                return candidate, ("explicit" if candidate.tzinfo else "naive")
        return None
    if first.tzinfo is not None:
        return first, "explicit"
    return first, "naive"

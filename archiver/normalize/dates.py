"""Publication dates: any format a feed or page uses, to an aware UTC datetime."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser

_LANGUAGE_ZONES = {
    "zh": "Asia/Shanghai",
    "zh-cn": "Asia/Shanghai",
    "zh-tw": "Asia/Taipei",
    "zh-hk": "Asia/Hong_Kong",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
}


@dataclass(frozen=True)
class ParsedDate:
    """A date as read: the UTC instant beside the raw string and how its zone was decided."""

    value: datetime | None
    raw: str | None
    rule: str | None
    flags: tuple[str, ...] = ()


def zone_for_language(language: str | None) -> str | None:
    """The IANA zone a language tag implies (``zh-cn`` -> ``Asia/Shanghai``), or None."""
    if not isinstance(language, str):
        return None
    tag = language.strip().lower().replace("_", "-")
    return _LANGUAGE_ZONES.get(tag) or _LANGUAGE_ZONES.get(tag.split("-")[0])


def parse_date(
    raw: str | None,
    *,
    timezone: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> ParsedDate:
    """Read ``raw`` as an aware UTC datetime; never raises."""
    unparseable = ParsedDate(None, raw, None, ("unparseable",))
    if not isinstance(raw, str) or not raw.strip():
        return unparseable
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{10}", text):
            return ParsedDate(datetime.fromtimestamp(int(text), UTC), raw, "epoch")
        if re.fullmatch(r"\d{13}", text):
            return ParsedDate(datetime.fromtimestamp(int(text) / 1000, UTC), raw, "epoch")
        parsed = dateutil_parser.parse(text, tzinfos=lambda name, offset: offset)
    except (ValueError, OverflowError):
        return unparseable
    if parsed.tzinfo is not None:
        return ParsedDate(parsed.astimezone(UTC), raw, "explicit")
    zone_name, rule = timezone, "source"
    if not zone_name:
        zone_name, rule = zone_for_language(language), "language"
    if not zone_name:
        return ParsedDate(parsed.replace(tzinfo=UTC), raw, "utc")
    value = parsed.replace(tzinfo=ZoneInfo(zone_name)).astimezone(UTC)
    flags = ("future",) if value > (now or datetime.now(UTC)) + timedelta(days=1) else ()
    return ParsedDate(value, raw, rule, flags)

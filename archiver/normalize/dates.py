"""Publication dates in any format a feed or page uses, to an aware UTC datetime.

Formats read, in this order: Unix epochs (10 digits: seconds, 13: milliseconds); ISO 8601 /
W3C-DTF (``2021-04-02``, ``2021-04-02T14:27Z``, ``2021-04-02 14:27:15.123+08:00``, compact
``20210402T142715Z``); Chinese and Korean dates (``2021年4月2日 14:27``, ``4月2日 下午2点``,
``2004년 05월 28일``); relative dates in Chinese, Japanese and English (``刚刚``, ``5分钟前``,
``昨天 10:00``, ``2 hours ago``, ``yesterday``), read against the fetch time; then everything
python-dateutil reads (RFC 822 / 1123, asctime and the many English variants), with a table of
zone abbreviations, the generic US zones (``ET``, ``PT``...) and IANA names (``Etc/GMT``).

A date without a zone is read in the source's zone: the configured one, else the one its
language and region imply (:func:`zone_for_language`; Hangul in the string implies Korea), else
UTC; ``ParsedDate.rule`` records which.

**CST** is ambiguous: China Standard Time (+08:00), US Central Standard Time (-06:00) or Cuba
Standard Time (-05:00). We read it as +08:00 when the string itself says China Standard Time
(``GMT+0800 (中国标准时间)``); else as the configured zone's own CST when it has one (a zone at
+08:00 such as Asia/Shanghai or Asia/Taipei: +08:00; at -06:00 such as America/Chicago: -06:00;
America/Havana: -05:00); else as +08:00 for a Chinese language (``zh*``); else as US Central
-06:00, the meaning RFC 822 gives it. ``IST`` likewise is India (+05:30) unless the zone is
Ireland (+01:00) or Israel (+02:00). Such readings carry the flag ``ambiguous-zone``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import relativedelta

from archiver.normalize._safe import collapse, never_raises, scrub

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
"""The zone abbreviation has several meanings (``CST``, ``IST``); see the module docstring."""
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


# -- zones --------------------------------------------------------------------------------

# Language (or language-region) to zone, for languages spoken in one zone at heart. Regions
# below win over these; a tag like "en" or "es" alone says nothing about the zone.
_LANGUAGE_ZONES = {
    "zh": "Asia/Shanghai",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
    "it": "Europe/Rome",
    "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw",
    "cs": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "el": "Europe/Athens",
    "sv": "Europe/Stockholm",
    "da": "Europe/Copenhagen",
    "nb": "Europe/Oslo",
    "nn": "Europe/Oslo",
    "no": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "uk": "Europe/Kyiv",
    "ru": "Europe/Moscow",
    "tr": "Europe/Istanbul",
    "he": "Asia/Jerusalem",
    "fa": "Asia/Tehran",
    "hi": "Asia/Kolkata",
    "bn": "Asia/Dhaka",
    "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh",
    "id": "Asia/Jakarta",
    "ms": "Asia/Kuala_Lumpur",
}
# Region to zone, for regions with one zone (or one zone that most of their press uses).
_REGION_ZONES = {
    "cn": "Asia/Shanghai",
    "tw": "Asia/Taipei",
    "hk": "Asia/Hong_Kong",
    "mo": "Asia/Macau",
    "sg": "Asia/Singapore",
    "my": "Asia/Kuala_Lumpur",
    "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul",
    "in": "Asia/Kolkata",
    "th": "Asia/Bangkok",
    "vn": "Asia/Ho_Chi_Minh",
    "ph": "Asia/Manila",
    "id": "Asia/Jakarta",
    "il": "Asia/Jerusalem",
    "ir": "Asia/Tehran",
    "ae": "Asia/Dubai",
    "sa": "Asia/Riyadh",
    "pk": "Asia/Karachi",
    "gb": "Europe/London",
    "uk": "Europe/London",
    "ie": "Europe/Dublin",
    "pt": "Europe/Lisbon",
    "es": "Europe/Madrid",
    "fr": "Europe/Paris",
    "be": "Europe/Brussels",
    "nl": "Europe/Amsterdam",
    "lu": "Europe/Luxembourg",
    "de": "Europe/Berlin",
    "at": "Europe/Vienna",
    "ch": "Europe/Zurich",
    "it": "Europe/Rome",
    "dk": "Europe/Copenhagen",
    "se": "Europe/Stockholm",
    "no": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "pl": "Europe/Warsaw",
    "cz": "Europe/Prague",
    "gr": "Europe/Athens",
    "tr": "Europe/Istanbul",
    "ua": "Europe/Kyiv",
    "ru": "Europe/Moscow",
    "za": "Africa/Johannesburg",
    "eg": "Africa/Cairo",
    "ng": "Africa/Lagos",
    "ke": "Africa/Nairobi",
    "nz": "Pacific/Auckland",
    "ar": "America/Argentina/Buenos_Aires",
    "co": "America/Bogota",
    "pe": "America/Lima",
    "cl": "America/Santiago",
}
# Chinese scripts without a region: Simplified is the mainland's, Traditional Taiwan's.
_SCRIPT_ZONES = {"zh-hans": "Asia/Shanghai", "zh-hant": "Asia/Taipei"}

# Unambiguous zone abbreviations, in minutes east of UTC (RFC 822's and the common ones).
_ABBREVIATIONS = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "MET": 60,
    "CEST": 120,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "AST": -240,
    "ADT": -180,
    "NST": -210,
    "NDT": -150,
    "BRT": -180,
    "ART": -180,
    "PKT": 300,
    "ICT": 420,
    "WIB": 420,
    "HKT": 480,
    "SGT": 480,
    "AWST": 480,
    "PHT": 480,
    "JST": 540,
    "KST": 540,
    "ACST": 570,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "SAST": 120,
    "CAT": 120,
    "EAT": 180,
    "WAT": 60,
}
# Zones named without saying standard or daylight time: the region's clock at that date.
_GENERIC_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "AT": "America/Halifax",
}
_CHINA_STANDARD_TIME = re.compile(r"中国标准时间|北京时间|China Standard Time|Beijing Time", re.I)


@lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    """An IANA zone or a fixed offset (``+08:00``, ``UTC+8``) by name, or None."""
    name = name.strip()
    if not name or len(name) > 64:
        return None
    offset = _parse_offset(re.sub(r"^(?:UTC|GMT)(?=[+-])", "", name, flags=re.I))
    if offset is not None:
        return fixed_timezone(timedelta(minutes=offset))
    if name.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    if ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def _parse_offset(text: str) -> int | None:
    """Minutes east of UTC for ``+08:00``, ``+0800``, ``+08``, ``-5``; None if not one."""
    match = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?", text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 18 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (-1 if match.group(1) == "-" else 1)


@never_raises(lambda language: None)
def zone_for_language(language: str | None) -> str | None:
    """The IANA zone a language tag implies, or None when it implies none.

    The region decides when there is one (``zh-cn`` -> ``Asia/Shanghai``, ``zh-tw`` ->
    ``Asia/Taipei``, ``en-gb`` -> ``Europe/London``); regions spanning several zones (``us``,
    ``ca``, ``au``, ``br``, ``mx``) give None. Without a region, languages spoken mostly in one
    zone give it (``ja`` -> ``Asia/Tokyo``, ``zh`` -> ``Asia/Shanghai``); ``en``, ``es``,
    ``pt``, ``ar`` give None.
    """
    if not isinstance(language, str):
        return None
    tag = collapse(language[:100]).lower().replace("_", "-")
    tag = re.split(r"[,;\s.]", tag, maxsplit=1)[0]
    if not tag:
        return None
    subtags = tag.split("-")
    regions = [s for s in subtags[1:] if len(s) == 2 and s.isalpha()]
    if regions:
        return _REGION_ZONES.get(regions[0])
    scripted = "-".join(subtags[:2])
    if scripted in _SCRIPT_ZONES:
        return _SCRIPT_ZONES[scripted]
    return _LANGUAGE_ZONES.get(subtags[0])


def _cst_offset(timezone: str | None, language: str | None, hint: str) -> int:
    """Minutes east of UTC meant by ``CST`` for this source (see the module docstring)."""
    if _CHINA_STANDARD_TIME.search(hint):
        return 480
    zone = _zone(timezone) if timezone else None
    if zone is not None:  # a configured zone where "CST" is the local clock decides
        if getattr(zone, "key", None) == "America/Havana":
            return -300
        standard = zone.utcoffset(datetime(2021, 1, 15))
        if standard == timedelta(hours=8):
            return 480
        if standard == timedelta(hours=-6):
            return -360
    if isinstance(language, str) and language.strip().lower().startswith("zh"):
        return 480
    return -360


def _ist_offset(timezone: str | None, language: str | None) -> int:
    zone_name = timezone or zone_for_language(language) or ""
    if zone_name in {"Europe/Dublin", "Eire"}:
        return 60
    if zone_name in {"Asia/Jerusalem", "Asia/Tel_Aviv", "Israel"}:
        return 120
    return 330


@dataclass
class _Context:
    """What one call knows: its arguments, and what reading the string revealed."""

    timezone: str | None
    language: str | None
    now: datetime
    hint: str = ""
    explicit: bool = False
    named_zone: tzinfo | None = None
    """An IANA zone the string itself names ("... Etc/GMT", "... Asia/Shanghai")."""
    flags: list[str] | None = None

    def flag(self, name: str) -> None:
        if self.flags is None:
            self.flags = []
        if name not in self.flags:
            self.flags.append(name)

    def zone_named(self, name: str) -> tzinfo | None:
        """The offset a zone name or numeric offset stands for; flags what is odd."""
        name = name.strip()
        numeric = re.sub(r"^(?:UTC|GMT|UT)\s?(?=[+-])", "", name, flags=re.I)
        offset = _parse_offset(numeric)
        if offset is None and re.fullmatch(r"[+-]\d+(?::?\d+)?", numeric):
            raise ValueError(f"not a UTC offset: {name}")  # "-99:99": the date is unreadable
        upper = name.upper()
        if upper in _GENERIC_ZONES:  # "ET": whatever New York's clocks said then
            self.explicit = True
            return ZoneInfo(_GENERIC_ZONES[upper])
        if offset is None and upper == "CST":
            offset = _cst_offset(self.timezone, self.language, self.hint)
            self.flag(FLAG_AMBIGUOUS_ZONE)
        elif offset is None and upper == "IST":
            offset = _ist_offset(self.timezone, self.language)
            self.flag(FLAG_AMBIGUOUS_ZONE)
        elif offset is None:
            offset = _ABBREVIATIONS.get(upper)
        if offset is None:
            self.flag(FLAG_UNKNOWN_ZONE)
            return None
        self.explicit = True
        return UTC if offset == 0 else fixed_timezone(timedelta(minutes=offset))

    def local_zone(self) -> tuple[tzinfo, str]:
        """The zone a naive time is read in, and the rule that chose it."""
        if self.timezone:
            zone = _zone(self.timezone)
            if zone is not None:
                return zone, RULE_SOURCE
        zone_name = zone_for_language(self.language)
        if zone_name:
            zone = _zone(zone_name)
            if zone is not None:
                return zone, RULE_LANGUAGE
        return UTC, RULE_UTC


# -- the readers --------------------------------------------------------------------------
# Each returns None when the string is not its format, else (datetime, kind): an aware
# datetime with kind "explicit", "relative" or "epoch", or a naive one with kind "naive".

_Reading = tuple[datetime, str]

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

_UNITS = {
    "second": "seconds",
    "sec": "seconds",
    "s": "seconds",
    "秒": "seconds",
    "秒钟": "seconds",
    "minute": "minutes",
    "min": "minutes",
    "m": "minutes",
    "分": "minutes",
    "分钟": "minutes",
    "分鐘": "minutes",
    "hour": "hours",
    "hr": "hours",
    "h": "hours",
    "小时": "hours",
    "个小时": "hours",
    "小時": "hours",
    "個小時": "hours",
    "時間": "hours",
    "day": "days",
    "d": "days",
    "天": "days",
    "日": "days",
    "week": "weeks",
    "wk": "weeks",
    "w": "weeks",
    "周": "weeks",
    "星期": "weeks",
    "个星期": "weeks",
    "週": "weeks",
    "週間": "weeks",
    "month": "months",
    "mo": "months",
    "个月": "months",
    "月": "months",
    "個月": "months",
    "か月": "months",
    "ヶ月": "months",
    "year": "years",
    "yr": "years",
    "y": "years",
    "年": "years",
}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "a few": 3, "few": 3, "several": 3, "半": 0.5}
_RELATIVE_CJK = re.compile(
    r"(?P<count>\d+|半|几|幾)\s*(?P<unit>秒钟|秒|分钟|分鐘|分|个小时|個小時|小时|小時|時間|天|日"
    r"|个星期|星期|週間|周|週|个月|個月|か月|ヶ月|月|年)\s*(?:前|以前|之前)"
)
_RELATIVE_EN = re.compile(
    r"(?P<count>\d+|an?|one|a few|few|several)\s*"
    r"(?P<unit>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|months?|mo"
    r"|years?|yrs?|y)\.?\s+ago",
    re.IGNORECASE,
)
_DAY_WORDS = {
    "刚刚": None,
    "刚才": None,
    "剛剛": None,
    "just now": None,
    "now": None,
    "moments ago": None,
    "a moment ago": None,
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
    "前天": 2,
    "一昨日": 2,
}
_DAY_WORD = re.compile(
    r"(?P<word>刚刚|刚才|剛剛|just now|moments? ago|a moment ago|now|今天|今日|today|昨天|昨日"
    r"|yesterday|前天|一昨日)"
    r"(?:\s*(?:at|,)?\s*(?P<period>上午|早上|凌晨|中午|下午|晚上|傍晚)?\s*"
    r"(?P<hour>\d{1,2})\s*(?::|时|点)\s*(?P<minute>\d{1,2})?\s*分?"
    r"(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?",
    re.IGNORECASE,
)
_PM_PERIODS = {"下午", "晚上", "傍晚", "夜间", "夜里", "오후", "pm"}


def _twelve_hour(hour: int, period: str | None) -> int:
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
    context: _Context,
    year: int,
    month: int,
    day: int,
    match: re.Match[str],
    *,
    period: str | None = None,
) -> _Reading | None:
    """A reading from matched fields (hour/minute/second/fraction/zone groups if present)."""
    groups = match.groupdict()
    hour = int(groups.get("hour") or 0)
    minute = int(groups.get("minute") or 0)
    second = int(groups.get("second") or 0)
    if groups.get("hour") is None:
        context.flag(FLAG_DATE_ONLY)
    hour = _twelve_hour(hour, period or groups.get("ampm") or groups.get("period2"))
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


def _read_epoch(text: str, context: _Context) -> _Reading | None:
    match = _EPOCH.fullmatch(text)
    if not match:
        return None
    if match.group("millis"):
        seconds = int(match.group("millis")) / 1000
    else:
        seconds = int(match.group("seconds")) + float(f"0.{match.group('fraction') or 0}")
    return datetime.fromtimestamp(seconds, UTC), "epoch"


def _read_iso(text: str, context: _Context) -> _Reading | None:
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


def _infer_year(context: _Context, month: int, day: int, match: re.Match[str]) -> _Reading | None:
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


def _read_chinese(text: str, context: _Context) -> _Reading | None:
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


def _read_month_day(text: str, context: _Context) -> _Reading | None:
    """``04-02 14:27`` (a listing's date of this year, common on Chinese sites)."""
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        return None
    return _infer_year(context, int(match.group("month")), int(match.group("day")), match)


def _read_relative(text: str, context: _Context) -> _Reading | None:
    lowered = text.lower()
    match = _RELATIVE_CJK.fullmatch(text) or _RELATIVE_EN.fullmatch(lowered)
    if match:
        count_text, unit = match.group("count"), match.group("unit").lower()
        # 几/幾 ("a few") and the English words have no digits
        count = int(count_text) if count_text.isdigit() else _NUMBER_WORDS.get(count_text, 3)
        unit = _UNITS.get(unit) or _UNITS.get(unit.rstrip("s"), "")
        if not unit:
            return None
        if unit in {"months", "years"}:
            delta = relativedelta(**{unit: int(count)})  # type: ignore[arg-type]
            return context.now - delta, "relative"
        return context.now - timedelta(**{unit: count}), "relative"
    match = _DAY_WORD.fullmatch(lowered)
    if not match:
        return None
    days_back = _DAY_WORDS.get(match.group("word"), _DAY_WORDS.get(match.group("word").strip()))
    if days_back is None:  # "just now", "刚刚": no time can follow
        return (context.now, "relative") if match.group("hour") is None else None
    if match.group("hour") is None:
        return context.now - timedelta(days=days_back), "relative"
    zone, _ = context.local_zone()
    local_now = context.now.astimezone(zone)
    hour = _twelve_hour(int(match.group("hour")), match.group("period") or match.group("ampm"))
    day = (local_now - timedelta(days=days_back)).date()
    local = datetime(
        day.year,
        day.month,
        day.day,
        hour,
        int(match.group("minute") or 0),
        int(match.group("second") or 0),
        tzinfo=zone,
    )
    return local, "relative"


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


def _read_dateutil(text: str, context: _Context) -> _Reading | None:
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


_READERS = (_read_epoch, _read_iso, _read_chinese, _read_month_day, _read_relative)

_PREFIXES = re.compile(
    r"^(?:(?:posted|published|updated|modified|created|last\s+updated|date)(?:\s+(?:on|at))?"
    r"\s*:?\s*|(?:发布|发表|更新|创建|修改)?(?:时间|日期|于)\s*[:：]?\s*)",
    re.IGNORECASE,
)
_IANA_SUFFIX = re.compile(r"\s+((?:[A-Za-z_]+/)+[A-Za-z0-9_+-]+)$")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_TRAILING_NOTE = re.compile(r"\s*\(([^()]{0,60})\)\s*$")
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")


def _prepare(raw: str, context: _Context) -> str:
    """The string tidied for the readers: NFKC, one line, notes and prefixes removed."""
    text = collapse(unicodedata.normalize("NFKC", scrub(raw)))
    note = _TRAILING_NOTE.search(text)
    if note:  # "Fri Apr 02 2021 14:27:15 GMT+0800 (中国标准时间)"
        context.hint = note.group(1)
        text = text[: note.start()]
    if _CHINA_STANDARD_TIME.search(text):  # "2021年4月2日 14:27 北京时间"
        context.hint = text
        text = collapse(_CHINA_STANDARD_TIME.sub(" ", text)) + " +08:00"
    elif _CHINA_STANDARD_TIME.search(context.hint) and not re.search(
        r"[+-]\d{2}:?\d{2}\b|\b(?:GMT|UTC|Z|CST)\b", text
    ):
        text += " +08:00"
    text = _PREFIXES.sub("", text)
    named = _IANA_SUFFIX.search(text)
    if named and (zone := _zone(named.group(1))) is not None:
        context.named_zone = zone
        text = text[: named.start()]
    # "GMT+8" means 8 hours east of Greenwich in feeds (JavaScript's Date.toString), not the
    # POSIX "8 hours west" dateutil would read.
    return _GMT_OFFSET.sub(
        lambda m: f"{m.group(1)}{int(m.group(2)):02d}{m.group(3) or '00'}", text
    ).strip()


def _unparseable(
    raw: str | None, *, timezone: str | None = None, language: str | None = None, **_: object
) -> ParsedDate:
    return ParsedDate(None, raw if isinstance(raw, str) else None, None, (FLAG_UNPARSEABLE,))


@never_raises(_unparseable)
def parse_date(
    raw: str | None,
    *,
    timezone: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> ParsedDate:
    """Read a date string as an aware UTC datetime; never raises.

    ``timezone`` is the source's configured IANA zone (or a fixed offset like ``+08:00``),
    used for dates that carry no zone; ``language`` (``zh-cn``) implies one when no zone is
    configured (:func:`zone_for_language`), else UTC is assumed. ``now`` is the fetch time,
    against which relative dates (``3小时前``, ``yesterday``) and year-less dates are read and
    the ``future`` flag is judged; it defaults to the current time.

    Unreadable input (``Invalid Date``, garbage, empty) gives ``value=None`` with the flag
    ``unparseable``; the raw string is always kept.
    """
    if not isinstance(raw, str):
        return _unparseable(None)
    if not isinstance(now, datetime):
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    context = _Context(
        timezone if isinstance(timezone, str) else None,
        language if isinstance(language, str) else None,
        now,
    )
    if not raw.strip() or len(raw) > MAX_DATE_CHARS * 5:
        return _unparseable(raw)
    if context.language is None and context.timezone is None and _HANGUL.search(raw):
        context.language = "ko"  # Hangul in the date: Korean, whatever the feed declared
    text = _prepare(raw, context)
    if not text or len(text) > MAX_DATE_CHARS:
        return _unparseable(raw)

    reading: _Reading | None = None
    for reader in (*_READERS, _read_dateutil):
        try:
            reading = reader(text, context)
        except (ValueError, OverflowError, OSError):
            reading = None  # the right format with impossible fields: 2021-02-30, hour 25
            if reader is not _read_dateutil:
                continue
        if reading is not None:
            break
    if reading is None:
        return _unparseable(raw)

    moment, kind = reading
    if kind == "naive" and context.named_zone is not None:
        moment, rule = moment.replace(tzinfo=context.named_zone), RULE_EXPLICIT
    elif kind == "naive":
        zone, rule = context.local_zone()
        moment = moment.replace(tzinfo=zone)
    elif kind == "explicit":
        rule = RULE_EXPLICIT
    else:
        rule = kind
    try:
        value = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return _unparseable(raw)

    flags = list(context.flags or ())
    if value > now + FUTURE_TOLERANCE:
        flags.append(FLAG_FUTURE)
    if value < EARLIEST_PLAUSIBLE:
        flags.append(FLAG_BEFORE_1990)
    return ParsedDate(value, raw, rule, tuple(flags))

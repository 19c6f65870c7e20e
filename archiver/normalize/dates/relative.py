"""Relative dates in Chinese, Japanese and English (刚刚, 5分钟前, 昨天 10:00, 2 hours ago)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from dateutil.relativedelta import relativedelta

from archiver.normalize.dates.context import Reading, ReadingContext
from archiver.normalize.dates.formats import twelve_hour

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


def read_relative(text: str, context: ReadingContext) -> Reading | None:
    """``5分钟前``, ``2 hours ago``, ``昨天 10:00``, ``just now``: counted back from ``now``."""
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
    hour = twelve_hour(int(match.group("hour")), match.group("period") or match.group("ampm"))
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

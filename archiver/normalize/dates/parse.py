"""parse_date: tidy the string, try each format's reader in turn, settle the zone and flags."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from archiver.normalize._safe import collapse, never_raises, scrub
from archiver.normalize.dates.context import Reading, ReadingContext
from archiver.normalize.dates.formats import (
    read_chinese,
    read_dateutil,
    read_epoch,
    read_iso,
    read_month_day,
)
from archiver.normalize.dates.relative import read_relative
from archiver.normalize.dates.result import (
    EARLIEST_PLAUSIBLE,
    FLAG_BEFORE_1990,
    FLAG_FUTURE,
    FLAG_UNPARSEABLE,
    FUTURE_TOLERANCE,
    MAX_DATE_CHARS,
    RULE_EXPLICIT,
    ParsedDate,
)
from archiver.normalize.dates.zones import CHINA_STANDARD_TIME, lookup_zone

_READERS = (read_epoch, read_iso, read_chinese, read_month_day, read_relative)

_PREFIXES = re.compile(
    r"^(?:(?:posted|published|updated|modified|created|last\s+updated|date)(?:\s+(?:on|at))?"
    r"\s*:?\s*|(?:发布|发表|更新|创建|修改)?(?:时间|日期|于)\s*[:：]?\s*)",
    re.IGNORECASE,
)
_IANA_SUFFIX = re.compile(r"\s+((?:[A-Za-z_]+/)+[A-Za-z0-9_+-]+)$")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_TRAILING_NOTE = re.compile(r"\s*\(([^()]{0,60})\)\s*$")
_GMT_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\b")


def _prepare(raw: str, context: ReadingContext) -> str:
    """The string tidied for the readers: NFKC, one line, notes and prefixes removed."""
    text = collapse(unicodedata.normalize("NFKC", scrub(raw)))
    note = _TRAILING_NOTE.search(text)
    if note:  # "Fri Apr 02 2021 14:27:15 GMT+0800 (中国标准时间)"
        context.hint = note.group(1)
        text = text[: note.start()]
    if CHINA_STANDARD_TIME.search(text):  # "2021年4月2日 14:27 北京时间"
        context.hint = text
        text = collapse(CHINA_STANDARD_TIME.sub(" ", text)) + " +08:00"
    elif CHINA_STANDARD_TIME.search(context.hint) and not re.search(
        r"[+-]\d{2}:?\d{2}\b|\b(?:GMT|UTC|Z|CST)\b", text
    ):
        text += " +08:00"
    text = _PREFIXES.sub("", text)
    named = _IANA_SUFFIX.search(text)
    if named and (zone := lookup_zone(named.group(1))) is not None:
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
    context = ReadingContext(
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

    reading: Reading | None = None
    for reader in (*_READERS, read_dateutil):
        try:
            reading = reader(text, context)
        except (ValueError, OverflowError, OSError):
            reading = None  # the right format with impossible fields: 2021-02-30, hour 25
            if reader is not read_dateutil:
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

"""archiver.normalize.dates: every supported format to the right UTC instant, and fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.normalize.dates import ParsedDate, parse_date, zone_for_language

NOW = datetime(2021, 4, 2, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai, 04:00 in New York
ZH = {"language": "zh-cn"}


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)  # type: ignore[misc]


CASES: list[tuple[str, dict[str, str], datetime, str]] = [
    # RFC 822 / 1123
    ("Fri, 02 Apr 2021 06:27:15 GMT", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 06:27:15 UT", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 14:27:15 +0800", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 2 Apr 2021 02:27:15 -0400", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 02:27:15 EDT", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Thu, 01 Jan 2004 14:48:21 EST", {}, utc(2004, 1, 1, 19, 48, 21), "explicit"),
    ("Thu, 01 Jan 2004 11:48:21 PST", {}, utc(2004, 1, 1, 19, 48, 21), "explicit"),
    ("Fri, 02 Apr 2021 08:27:15 CEST", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 15:27:15 JST", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("02 Apr 2021 06:27 GMT", {}, utc(2021, 4, 2, 6, 27), "explicit"),
    ("Friday, 02-Apr-21 06:27:15 GMT", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    (
        "Fri Apr 02 2021 14:27:15 GMT+0800 (中国标准时间)",
        {},
        utc(2021, 4, 2, 6, 27, 15),
        "explicit",
    ),
    (
        "Fri Apr 02 2021 14:27:15 GMT+0800 (China Standard Time)",
        {},
        utc(2021, 4, 2, 6, 27, 15),
        "explicit",
    ),
    ("Fri, 02 Apr 2021 14:27:15 GMT+8", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("April 2, 2021 2:27 PM EDT", {}, utc(2021, 4, 2, 18, 27), "explicit"),
    ("Mon, 26 January 2004 16:31:00 ET", {}, utc(2004, 1, 26, 21, 31), "explicit"),
    ("Mon, 26 July 2004 16:31:00 PT", {}, utc(2004, 7, 26, 23, 31), "explicit"),
    ("Wed, 19 Aug 2009 18:28:00 Etc/GMT", {}, utc(2009, 8, 19, 18, 28), "explicit"),
    ("2021-04-02 14:27:15 Asia/Shanghai", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Wed, 19 Feb 2012 22:40:00 GMT-01:01", {}, utc(2012, 2, 19, 23, 41), "explicit"),
    ("Sun Jan  4 16:29:06 2004", {}, utc(2004, 1, 4, 16, 29, 6), "utc"),
    ("Sun Jul 15 01:16:00 +0000 2012", {}, utc(2012, 7, 15, 1, 16), "explicit"),
    ("Thu, 01 Jan 2004", {}, utc(2004, 1, 1), "utc"),
    # CST: China with a Chinese language or zone, else US Central
    ("Fri, 02 Apr 2021 14:27:15 CST", ZH, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 14:27:15 CST", {"language": "zh"}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "Asia/Shanghai"},
        utc(2021, 4, 2, 6, 27, 15),
        "explicit",
    ),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "Asia/Taipei"},
        utc(2021, 4, 2, 6, 27, 15),
        "explicit",
    ),
    ("Fri, 02 Apr 2021 14:27:15 CST", {}, utc(2021, 4, 2, 20, 27, 15), "explicit"),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"language": "en-us"},
        utc(2021, 4, 2, 20, 27, 15),
        "explicit",
    ),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "America/Chicago", "language": "zh-cn"},
        utc(2021, 4, 2, 20, 27, 15),
        "explicit",
    ),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "UTC", "language": "zh-cn"},
        utc(2021, 4, 2, 6, 27, 15),
        "explicit",
    ),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "Europe/Berlin"},
        utc(2021, 4, 2, 20, 27, 15),
        "explicit",
    ),
    (
        "Fri, 02 Apr 2021 14:27:15 CST",
        {"timezone": "America/Havana"},
        utc(2021, 4, 2, 19, 27, 15),
        "explicit",
    ),
    ("2021-04-02 14:27:15 CST", ZH, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("Fri, 02 Apr 2021 14:27:15 IST", {}, utc(2021, 4, 2, 8, 57, 15), "explicit"),
    # RFC 822 without a zone: the source's zone
    ("Fri, 02 Apr 2021 14:27:15", ZH, utc(2021, 4, 2, 6, 27, 15), "language"),
    (
        "Fri, 02 Apr 2021 08:27:15",
        {"timezone": "Europe/Berlin"},
        utc(2021, 4, 2, 6, 27, 15),
        "source",
    ),
    ("Fri, 02 Apr 2021 06:27:15", {}, utc(2021, 4, 2, 6, 27, 15), "utc"),
    # ISO 8601 / W3C-DTF
    ("2021-04-02", {}, utc(2021, 4, 2), "utc"),
    ("2021-04-02", ZH, utc(2021, 4, 1, 16), "language"),
    ("2021-04", {}, utc(2021, 4, 1), "utc"),
    ("2021", {}, utc(2021, 1, 1), "utc"),
    ("2021-04-02T14:27Z", {}, utc(2021, 4, 2, 14, 27), "explicit"),
    ("2021-04-02t14:27z", {}, utc(2021, 4, 2, 14, 27), "explicit"),
    ("2021-04-02T14:27:15Z", {}, utc(2021, 4, 2, 14, 27, 15), "explicit"),
    (
        "2021-04-02T14:27:15.123+08:00",
        {},
        datetime(2021, 4, 2, 6, 27, 15, 123000, tzinfo=UTC),
        "explicit",
    ),
    (
        "2021-04-02T14:27:15.123456789+08:00",
        {},
        datetime(2021, 4, 2, 6, 27, 15, 123456, tzinfo=UTC),
        "explicit",
    ),
    ("2021-04-02 14:27:15+08:00", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("2021-04-02 14:27:15 +0800", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("2021-04-02T14:27:15+0800", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("2021-04-02T14:27:15+08", {}, utc(2021, 4, 2, 6, 27, 15), "explicit"),
    ("2021-04-02T09:27:15-05:00", {}, utc(2021, 4, 2, 14, 27, 15), "explicit"),
    ("2021-04-02 14:27:15 UTC", {}, utc(2021, 4, 2, 14, 27, 15), "explicit"),
    ("2002-10-13T09:00+01:00", {}, utc(2002, 10, 13, 8), "explicit"),
    ("20210402T142715Z", {}, utc(2021, 4, 2, 14, 27, 15), "explicit"),
    ("20210402", {}, utc(2021, 4, 2), "utc"),
    ("2021-04-02T24:00:00Z", {}, utc(2021, 4, 3), "explicit"),
    ("2021-04-02T14:27:15", {"timezone": "Asia/Tokyo"}, utc(2021, 4, 2, 5, 27, 15), "source"),
    ("2016-10-26 16:53:42", ZH, utc(2016, 10, 26, 8, 53, 42), "language"),
    ("2016-10-26 16:53:42", {"timezone": "+08:00"}, utc(2016, 10, 26, 8, 53, 42), "source"),
    ("2016-10-26 16:53:42", {"timezone": "UTC+8"}, utc(2016, 10, 26, 8, 53, 42), "source"),
    ("2016-10-26 16:53:42", {"language": "zh-tw"}, utc(2016, 10, 26, 8, 53, 42), "language"),
    ("2016-10-26 16:53:42", {"language": "ja"}, utc(2016, 10, 26, 7, 53, 42), "language"),
    (
        "2016-10-26 16:53:42",
        {"timezone": "Not/AZone", "language": "ja"},
        utc(2016, 10, 26, 7, 53, 42),
        "language",
    ),
    ("2016-10-26 16:53:42", {"language": "en"}, utc(2016, 10, 26, 16, 53, 42), "utc"),
    ("2016/10/26 16:53", ZH, utc(2016, 10, 26, 8, 53), "language"),
    ("2016.10.26", ZH, utc(2016, 10, 25, 16), "language"),
    # Chinese absolute forms
    ("2021年04月02日 14:27", ZH, utc(2021, 4, 2, 6, 27), "language"),
    ("2021年4月2日", ZH, utc(2021, 4, 1, 16), "language"),
    ("2021年4月2日 14时27分15秒", ZH, utc(2021, 4, 2, 6, 27, 15), "language"),
    ("2021年4月2日 下午2:27", ZH, utc(2021, 4, 2, 6, 27), "language"),
    ("2021年4月2日 星期五 14:27", ZH, utc(2021, 4, 2, 6, 27), "language"),
    ("２０２１年４月２日　１４：２７", ZH, utc(2021, 4, 2, 6, 27), "language"),
    ("2021年4月2日 14:27", {"timezone": "Asia/Shanghai"}, utc(2021, 4, 2, 6, 27), "source"),
    ("2021-04-02 14:27 北京时间", {}, utc(2021, 4, 2, 6, 27), "explicit"),
    ("发布时间：2021-04-02 14:27", ZH, utc(2021, 4, 2, 6, 27), "language"),
    ("4月2日 14:27", ZH, utc(2021, 4, 2, 6, 27), "language"),  # earlier today
    ("4月2日 17:27", ZH, utc(2020, 4, 2, 9, 27), "language"),  # later today: last year's
    ("12月31日", ZH, utc(2020, 12, 30, 16), "language"),
    # Korean: Hangul says Korea when the source says nothing
    ("2004년 05월 28일  01:31:15", {}, utc(2004, 5, 27, 16, 31, 15), "language"),
    ("2004-05-25 오후 11:23:17", {}, utc(2004, 5, 25, 14, 23, 17), "language"),
    ("04-01 09:00", ZH, utc(2021, 4, 1, 1), "language"),
    # relative to the fetch time
    ("刚刚", {}, NOW, "relative"),
    ("5分钟前", {}, NOW - timedelta(minutes=5), "relative"),
    ("30秒前", {}, NOW - timedelta(seconds=30), "relative"),
    ("3小时前", {}, NOW - timedelta(hours=3), "relative"),
    ("3个小时前", {}, NOW - timedelta(hours=3), "relative"),
    ("半小时前", {}, NOW - timedelta(minutes=30), "relative"),
    ("2天前", {}, NOW - timedelta(days=2), "relative"),
    ("1周前", {}, NOW - timedelta(weeks=1), "relative"),
    ("2个月前", {}, utc(2021, 2, 2, 8), "relative"),
    ("1年前", {}, utc(2020, 4, 2, 8), "relative"),
    ("昨天", {}, NOW - timedelta(days=1), "relative"),
    ("昨天 10:00", ZH, utc(2021, 4, 1, 2), "relative"),
    ("今天 09:30", ZH, utc(2021, 4, 2, 1, 30), "relative"),
    ("前天", {}, NOW - timedelta(days=2), "relative"),
    ("前天 23:15", ZH, utc(2021, 3, 31, 15, 15), "relative"),
    ("3時間前", {}, NOW - timedelta(hours=3), "relative"),
    ("just now", {}, NOW, "relative"),
    ("2 hours ago", {}, NOW - timedelta(hours=2), "relative"),
    ("an hour ago", {}, NOW - timedelta(hours=1), "relative"),
    ("15 mins ago", {}, NOW - timedelta(minutes=15), "relative"),
    ("3d ago", {}, NOW - timedelta(days=3), "relative"),
    ("yesterday", {}, NOW - timedelta(days=1), "relative"),
    ("Yesterday at 3:15 PM", {"timezone": "America/New_York"}, utc(2021, 4, 1, 19, 15), "relative"),
    # Unix epochs
    ("1617344835", {}, utc(2021, 4, 2, 6, 27, 15), "epoch"),
    ("1617344835123", {}, datetime(2021, 4, 2, 6, 27, 15, 123000, tzinfo=UTC), "epoch"),
    (" 1617344835 ", {}, utc(2021, 4, 2, 6, 27, 15), "epoch"),
]


@pytest.mark.parametrize(("raw", "options", "expected", "rule"), CASES)
def test_formats_give_the_right_instant(
    raw: str, options: dict[str, str], expected: datetime, rule: str
) -> None:
    parsed = parse_date(raw, now=NOW, **options)  # type: ignore[arg-type]
    assert parsed.value == expected, parsed
    assert parsed.value is not None
    assert parsed.value.utcoffset() == timedelta(0)
    assert parsed.rule == rule
    assert parsed.raw == raw
    assert "unparseable" not in parsed.flags


@pytest.mark.parametrize(
    "raw",
    [
        "Invalid Date",
        "invalid date",
        "garbage",
        "",
        "   ",
        "NaN",
        "undefined",
        "0",
        "Monday",
        "3 5 7",
        "2021-02-30",
        "2021-13-01",
        "25:00",
        "下午2点",
        "\x00\ud800",
        "x" * 5000,
    ],
)
def test_unreadable_gives_none_and_keeps_raw(raw: str) -> None:
    parsed = parse_date(raw, now=NOW)
    assert parsed == ParsedDate(None, raw, None, ("unparseable",))


def test_none_is_unparseable() -> None:
    assert parse_date(None) == ParsedDate(None, None, None, ("unparseable",))


def test_future_and_old_dates_are_flagged_but_kept() -> None:
    future = parse_date("2021-04-04T00:00:00Z", now=NOW)
    assert future.value == utc(2021, 4, 4)
    assert "future" in future.flags
    assert "future" not in parse_date("2021-04-03T00:00:00Z", now=NOW).flags  # within a day
    old = parse_date("Mon, 01 Jan 1985 00:00:00 GMT", now=NOW)
    assert old.value == utc(1985, 1, 1)
    assert "before-1990" in old.flags


def test_flags_say_what_was_inferred() -> None:
    assert "date-only" in parse_date("2021-04-02", now=NOW).flags
    assert "year-inferred" in parse_date("4月2日", now=NOW, language="zh-cn").flags
    assert "ambiguous-zone" in parse_date("Fri, 02 Apr 2021 14:27:15 CST", now=NOW).flags
    unknown = parse_date("Fri, 02 Apr 2021 06:27:15 XYZ", now=NOW)
    assert unknown.value == utc(2021, 4, 2, 6, 27, 15)
    assert (unknown.rule, "unknown-zone" in unknown.flags) == ("utc", True)


def test_naive_now_is_taken_as_utc() -> None:
    parsed = parse_date("1小时前", now=datetime(2021, 4, 2, 8, 0))
    assert parsed.value == utc(2021, 4, 2, 7, 0)


@pytest.mark.parametrize(
    ("language", "zone"),
    [
        ("zh-cn", "Asia/Shanghai"),
        ("zh-CN", "Asia/Shanghai"),
        ("zh_CN", "Asia/Shanghai"),
        ("zh", "Asia/Shanghai"),
        ("zh-Hans", "Asia/Shanghai"),
        ("zh-Hant", "Asia/Taipei"),
        ("zh-tw", "Asia/Taipei"),
        ("zh-hk", "Asia/Hong_Kong"),
        ("zh-Hant-HK", "Asia/Hong_Kong"),
        ("zh-sg", "Asia/Singapore"),
        ("ja", "Asia/Tokyo"),
        ("ja-JP", "Asia/Tokyo"),
        ("ko", "Asia/Seoul"),
        ("en-GB", "Europe/London"),
        ("de", "Europe/Berlin"),
        ("en", None),
        ("en-us", None),
        ("es", None),
        ("pt-BR", None),
        ("", None),
        (None, None),
        ("garbage!", None),
    ],
)
def test_zone_for_language(language: str | None, zone: str | None) -> None:
    assert zone_for_language(language) == zone


def test_every_zone_in_the_tables_exists() -> None:
    from zoneinfo import ZoneInfo

    from archiver.normalize.dates import zones

    for table in (zones._LANGUAGE_ZONES, zones._REGION_ZONES, zones.GENERIC_ZONES):
        for name in table.values():
            ZoneInfo(name)


# -- never raises --

ODD_PIECES = st.sampled_from(
    [
        "2021",
        "-",
        "04",
        "02",
        "T",
        ":",
        "Z",
        "+08:00",
        "GMT",
        "CST",
        "年",
        "月",
        "日",
        "前",
        "小时",
        "昨天",
        " ",
        "ago",
        "\x00",
        "\ud800",
        "99999999999999",
        "Fri,",
        "Apr",
        "(",
        ")",
    ]
)
ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(st.one_of(ODD_PIECES, st.text(max_size=3)), max_size=12).map("".join),
)


@given(
    raw=ANY_TEXT,
    timezone=st.one_of(
        st.none(), st.text(max_size=20), st.sampled_from(["Asia/Shanghai", "+08:00"])
    ),
    language=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["zh-cn", "en", "ja"])),
    now=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
)
def test_parse_date_never_raises_and_is_utc(
    raw: str | None, timezone: str | None, language: str | None, now: datetime | None
) -> None:
    parsed = parse_date(raw, timezone=timezone, language=language, now=now)
    assert parsed.raw == raw
    if parsed.value is None:
        assert parsed.flags == ("unparseable",)
    else:
        assert parsed.value.utcoffset() == timedelta(0)
        assert parsed.rule in {"explicit", "source", "language", "utc", "relative", "epoch"}


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_iso_round_trip(moment: datetime) -> None:
    assert parse_date(moment.isoformat(), now=NOW).value == moment

"""archiver.normalize.urls: canonical URLs, tracking parameters, article identity; fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.normalize.urls import (
    DEFAULT_TRACKING_PARAMS,
    article_identity,
    canonicalize_url,
    is_stable_guid,
)


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://36kr.com/p/1180000", None, "https://36kr.com/p/1180000"),
        ("HTTPS://36KR.com/p/1", None, "https://36kr.com/p/1"),
        ("https://36kr.com:443/p/1", None, "https://36kr.com/p/1"),
        ("http://36kr.com:80/p/1", None, "http://36kr.com/p/1"),
        ("http://36kr.com:8080/p/1", None, "http://36kr.com:8080/p/1"),
        ("https://36kr.com", None, "https://36kr.com/"),
        ("https://36kr.com/p/1#comments", None, "https://36kr.com/p/1"),
        ("https://example.com/#!/route", None, "https://example.com/#!/route"),
        ("https://36kr.com/a/./b/../c", None, "https://36kr.com/a/c"),
        ("  https://36kr.com/p/1  ", None, "https://36kr.com/p/1"),
        ("/p/1", "https://36kr.com/news/", "https://36kr.com/p/1"),
        ("p/1", "https://36kr.com/news/", "https://36kr.com/news/p/1"),
        ("../p/1", "https://36kr.com/news/x", "https://36kr.com/p/1"),
        ("//img.36krcdn.com/a", "http://36kr.com/", "http://img.36krcdn.com/a"),
        ("//img.36krcdn.com/a", None, "https://img.36krcdn.com/a"),
        ("http://münchen.de/", None, "http://xn--mnchen-3ya.de/"),
        (
            "http://例子.测试/路径?q=值",
            None,
            "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84?q=%E5%80%BC",
        ),
        ("http://a.com/x?y=%e4%b8%ad", None, "http://a.com/x?y=%E4%B8%AD"),
        ("http://[::1]:80/x", None, "http://[::1]/x"),
        # tracking parameters go, the others keep their order and spelling
        (
            "https://36kr.com/p/1?utm_source=feed&a=1&UTM_Medium=x&b=2",
            None,
            "https://36kr.com/p/1?a=1&b=2",
        ),
        ("https://36kr.com/p/1?ktm_source=rss&id=3", None, "https://36kr.com/p/1?id=3"),
        ("https://item.taobao.com/x?spm=a.b.c&id=9", None, "https://item.taobao.com/x?id=9"),
        (
            "https://mp.weixin.qq.com/s?__biz=M&mid=2&from=timeline&isappinstalled=0",
            None,
            "https://mp.weixin.qq.com/s?__biz=M&mid=2",
        ),
        ("https://a.com/x?f=rss", None, "https://a.com/x"),
        ("https://a.com/x?f=json", None, "https://a.com/x?f=json"),
        ("https://a.com/x?fbclid=1&gclid=2&msclkid=3&q=a+b", None, "https://a.com/x?q=a+b"),
        ("https://a.com/x?utm_source=a", None, "https://a.com/x"),
        ("https://a.com/x?a=1&&b", None, "https://a.com/x?a=1&b"),
        # unusable
        ("undefined", None, None),
        ("null", None, None),
        ("", None, None),
        ("   ", None, None),
        (None, None, None),
        ("javascript:void(0)", None, None),
        ("JavaScript:alert(1)", "https://a.com/", None),
        ("data:image/png;base64,AAAA", None, None),
        ("mailto:a@b.c", None, None),
        ("/p/1", None, None),
        ("p/1", "not a url", None),
        ("https://www.jianshu.com/p/undefined", None, None),
        ("http://a.com:99999/", None, None),
        ("http://[::1/", None, None),
        ("http:///path", None, None),
    ],
)
def test_canonicalize_url(url: str | None, base: str | None, expected: str | None) -> None:
    assert canonicalize_url(url, base=base) == expected


def test_tracking_params_can_be_replaced() -> None:
    url = "https://a.com/x?utm_source=a&ref=b&keep=1"
    assert canonicalize_url(url, tracking_params=["ref"]) == "https://a.com/x?utm_source=a&keep=1"
    assert canonicalize_url(url, tracking_params=()) == url
    assert canonicalize_url(url, tracking_params=[*DEFAULT_TRACKING_PARAMS, "ref"]) == (
        "https://a.com/x?keep=1"
    )


def test_default_tracking_params_are_documented_patterns() -> None:
    assert "utm_*" in DEFAULT_TRACKING_PARAMS
    assert {"ktm_*", "spm", "from", "f=rss", "fbclid", "gclid"} <= set(DEFAULT_TRACKING_PARAMS)


def test_canonical_form_is_idempotent() -> None:
    once = canonicalize_url("HTTP://Ex.com:80/a/../b/中?utm_x=1&q=%e4#f")
    assert once == "http://ex.com/b/%E4%B8%AD?q=%E4"
    assert canonicalize_url(once) == once


# -- identity --

PUBLISHED = datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)


def identity(guid: str | None, **overrides: object) -> str:
    arguments: dict[str, object] = {
        "canonical_url": None,
        "url": None,
        "title": "Keras，亡于谷歌？",
        "published": PUBLISHED,
        "published_raw": "Fri, 02 Apr 2021 06:27:15 GMT",
    }
    arguments.update(overrides)
    return article_identity(guid, **arguments)  # type: ignore[arg-type]


def test_a_stable_guid_is_the_identity() -> None:
    assert identity("https://36kr.com/p/1180000") == "https://36kr.com/p/1180000"
    assert identity("  tag:36kr.com,2021:1180000 \n") == "tag:36kr.com,2021:1180000"
    assert identity("1180000", canonical_url="https://36kr.com/p/1") == "1180000"


@pytest.mark.parametrize(
    "guid",
    [
        None,
        "",
        "  ",
        "undefined",
        "null",
        "NULL",
        "0",
        "https://36kr.com/p/1?t=1617344835",
        "https://36kr.com/p/1?_=1617344835123",
        "https://36kr.com/p/1?nocache=1",
        "https://36kr.com/p/1?v=1617344835",
    ],
)
def test_an_unstable_guid_gives_way_to_the_canonical_url(guid: str | None) -> None:
    assert not is_stable_guid(guid)
    assert identity(guid, canonical_url="https://36kr.com/p/1?utm_source=rss") == (
        "https://36kr.com/p/1"
    )
    assert identity(guid, url="https://36kr.com/p/2#x") == "https://36kr.com/p/2"


def test_without_guid_or_url_the_identity_is_a_hash_of_title_and_date() -> None:
    key = identity(None)
    assert key.startswith("sha256:")
    assert len(key) == len("sha256:") + 64
    # the same article, however spelled or zoned, has the same key
    shanghai = timezone(timedelta(hours=8))
    assert (
        identity(None, title="  keras，亡于谷歌？ ", published=PUBLISHED.astimezone(shanghai))
        == key
    )
    assert identity(None, url="undefined") == key
    # a different title or date gives a different key
    assert identity(None, title="Other") != key
    assert identity(None, published=PUBLISHED + timedelta(seconds=1)) != key
    # an unreadable date is keyed by its raw string
    raw_key = identity(None, published=None, published_raw="Invalid Date")
    assert raw_key != key
    assert raw_key == identity(None, published=None, published_raw=" Invalid Date ")
    assert raw_key != identity(None, published=None, published_raw="Other")


def test_a_huge_guid_is_hashed() -> None:
    assert identity("g" * 5000).startswith("guid-sha256:")


ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "http://",
                    "https://",
                    "//",
                    "/",
                    "?",
                    "&",
                    "=",
                    "#",
                    ":",
                    "[",
                    "]",
                    "@",
                    "%",
                    "utm_source",
                    "undefined",
                    "..",
                    "xn--",
                    "例",
                    "\ud800",
                    ":99999",
                    "javascript:",
                ]
            ),
            st.text(max_size=4),
        ),
        max_size=15,
    ).map("".join),
)


@given(ANY_TEXT, ANY_TEXT)
def test_canonicalize_url_never_raises(url: str | None, base: str | None) -> None:
    result = canonicalize_url(url, base=base)
    if result is not None:
        assert result.startswith(("http://", "https://"))
        assert result.isascii()
        assert canonicalize_url(result) == result


@given(ANY_TEXT, ANY_TEXT, ANY_TEXT, ANY_TEXT, st.one_of(st.none(), st.datetimes()), ANY_TEXT)
def test_article_identity_never_raises(
    guid: str | None,
    canonical: str | None,
    url: str | None,
    title: str | None,
    published: datetime | None,
    raw: str | None,
) -> None:
    key = article_identity(
        guid, canonical_url=canonical, url=url, title=title, published=published, published_raw=raw
    )
    assert isinstance(key, str)
    assert key

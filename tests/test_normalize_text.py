"""archiver.normalize.text: titles, body text, summaries, terms, language; and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.normalize.text import (
    clean_terms,
    clean_title,
    detect_language,
    html_to_text,
    make_summary,
)

# -- titles --


@pytest.mark.parametrize(
    ("raw", "source", "expected"),
    [
        ("Keras，亡于谷歌？", None, "Keras，亡于谷歌？"),
        ("Tom &amp; Jerry", None, "Tom & Jerry"),
        ("Tom &amp;amp; Jerry", None, "Tom & Jerry"),
        ("&#123;Hexo&#125; braces", None, "{Hexo} braces"),
        ("&quot;爱多纷&quot;宣布完成亿元级Pre-A轮融资", None, '"爱多纷"宣布完成亿元级Pre-A轮融资'),
        ("<b>Bold</b> and <em>emphasis</em>", None, "Bold and emphasis"),
        ("&lt;b&gt;escaped markup&lt;/b&gt;", None, "escaped markup"),
        ("Vector<int> and <T> stay", None, "Vector<int> and <T> stay"),
        ("a < b > c", None, "a < b > c"),
        ("<![CDATA[ A title\n   over\r\n lines ]]>", None, "A title over lines"),
        ("  spaced\t\tout\u3000title  ", None, "spaced out title"),
        ("zero\u200bwidth\ufeff", None, "zerowidth"),
        ("Keras，亡于谷歌？ - 36氪", "36氪", "Keras，亡于谷歌？"),
        ("Keras，亡于谷歌？_36氪", "36氪", "Keras，亡于谷歌？"),
        ("Keras | 36Kr", "36kr", "Keras"),
        ("Keras | 36KR", "36Kr", "Keras"),
        ("Keras – The Verge", "the verge", "Keras"),
        ("Keras - 36Kr", "36氪", "Keras - 36Kr"),  # a variant only when given
        ("Keras - 36氪", "36氪 - 资讯", "Keras"),  # a feed title naming the site first
        ("Keras - 资讯", "36氪 - 资讯", "Keras - 资讯"),
        ("36氪", "36氪", "36氪"),  # never strip to nothing
        ("About 36氪 and more", "36氪", "About 36氪 and more"),
        ("", None, None),
        ("   ", None, None),
        ("<br/>", None, None),
        (None, None, None),
    ],
)
def test_clean_title(raw: str | None, source: str | None, expected: str | None) -> None:
    assert clean_title(raw, source_name=source) == expected


def test_clean_title_source_aliases() -> None:
    assert clean_title("Keras - 36Kr", source_name="36氪", source_aliases=["36Kr"]) == "Keras"
    assert (
        clean_title("Keras - 36Kr | 36氪", source_name="36氪", source_aliases=["36Kr"]) == "Keras"
    )


def test_clean_title_length_guard() -> None:
    title = clean_title("字" * 600)
    assert title == "字" * 499 + "…"
    assert clean_title("abc", max_length=3) == "abc"
    assert clean_title("abcd", max_length=3) == "ab…"
    accented = clean_title("e\u0301" * 10, max_length=6)  # never split a letter from its accent
    assert accented is not None
    assert accented.endswith("\u0301…") or accented.endswith("e\u0301…")
    assert not accented[:-1].endswith("e")
    family = "👨\u200d👩\u200d👧"
    shortened = clean_title("ab" + family * 3, max_length=5)
    assert shortened is not None
    assert "\u200d…" not in shortened
    assert len(shortened) <= 5


# -- body text --


def test_html_to_text_blocks_become_lines() -> None:
    html = (
        "<div><p>First <b>para</b>graph.</p><p>Second&nbsp;one &amp; more.</p>"
        "<script>var x = '<p>no</p>';</script><style>p{}</style>"
        "<ul><li>one</li><li>two</li></ul>line<br>break<h2>Head</h2>"
        "<pre>code\n  indented</pre><!-- comment --></div>"
    )
    assert html_to_text(html) == (
        "First paragraph.\nSecond one & more.\none\ntwo\nline\nbreak\nHead\ncode\nindented"
    )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        (None, ""),
        ("", ""),
        ("plain text", "plain text"),
        ("&#123;x&#125;", "{x}"),
        ("<p>unclosed <b>tags", "unclosed tags"),
        ("<![CDATA[inside]]>", "inside"),
        ("<noscript><p>enable JS</p></noscript><p>kept</p>", "kept"),
        ("<![foo[x]]><p>ok</p>", "ok"),  # html.parser asserts on this: the fallback reads it
        ("<p>a</p><![if !supportLists]>x<![endif]><p>b</p>", "a\nx\nb"),
        ("<td>a</td><td>b</td>", "a b"),
        ("<html><head><title>T</title></head><body><p>Body</p></body></html>", "Body"),
    ],
)
def test_html_to_text_odd_inputs(html: str | None, text: str) -> None:
    assert html_to_text(html) == text


# -- summaries --


def test_summary_prefers_the_feeds_summary() -> None:
    assert make_summary("<p>Short <i>summary</i>.</p>", "Body text.") == "Short summary."


def test_summary_from_first_sentences() -> None:
    text = "First sentence. Second sentence! Third one? " * 20
    assert make_summary(None, text, max_chars=50) == "First sentence. Second sentence! Third one?"
    chinese = "第一句话。第二句话！第三句话？" * 30
    assert make_summary(None, chinese, max_chars=16) == "第一句话。第二句话！第三句话？"


def test_summary_cuts_one_long_sentence_at_a_word() -> None:
    summary = make_summary(None, "word " * 100, max_chars=32)
    assert summary is not None
    assert summary.endswith("word…")
    assert len(summary) <= 32
    cjk = make_summary(None, "中" * 100, max_chars=10)
    assert cjk == "中" * 9 + "…"


def test_summary_skips_the_editors_note() -> None:
    text = (
        "编者按：本文来自微信公众号“机器之心”（ID:almosthuman2014），36氪经授权发布。\n正文第一句。"
    )
    assert make_summary(None, text) == "正文第一句。"


def test_summary_joins_lines() -> None:
    assert make_summary(None, "第一行\n第二行") == "第一行第二行"
    assert make_summary(None, "line one\nline two") == "line one line two"


@pytest.mark.parametrize(("summary", "text"), [(None, None), ("", ""), ("<p> </p>", "  \n ")])
def test_summary_of_nothing_is_none(summary: str | None, text: str | None) -> None:
    assert make_summary(summary, text) is None


# -- terms --


def test_clean_terms() -> None:
    values = [
        " 新媒体 ",
        "36kr",
        "36KR",
        None,
        "",
        "  ",
        "Deep   learning",
        "deep learning",
        "资讯",
        "Science &amp; Tech",
        "ＡＩ",
        "AI",
    ]
    assert clean_terms(values) == [
        "新媒体",
        "36kr",
        "Deep learning",
        "资讯",
        "Science & Tech",
        "ＡＩ",
    ]


def test_clean_terms_takes_any_iterable() -> None:
    assert clean_terms(iter(["a", "b", "A"])) == ["a", "b"]
    assert clean_terms([]) == []


# -- language --


KERAS = (
    "将 Keras 并入 TensorFlow，到底是不是一个正确的决定？近日，Reddit 上出现了一个「悼念」"
    "Keras 的帖子，引发了不少人的围观。"
)


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        ("zh-CN", None, "zh-cn"),
        ("zh_CN", None, "zh-cn"),
        ("zh-Hans", None, "zh-cn"),
        ("zh-Hant-TW", None, "zh-tw"),
        ("EN-us", None, "en-us"),
        ("en", "这是中文", "en"),  # the declaration wins
        ("zh-CN,zh;q=0.9", None, "zh-cn"),
        ("zh_CN.UTF-8", None, "zh-cn"),
        ("English", None, "en"),
        ("und", KERAS, "zh"),
        (None, KERAS, "zh"),
        ("", "これは日本語の文章です。カタカナもあります。", "ja"),
        (None, "이것은 한국어 문장입니다", "ko"),
        (None, "The quick brown fox jumps over the lazy dog and it was the best of times.", "en"),
        (None, "Der schnelle braune Fuchs springt über den faulen Hund und so weiter.", None),
        (None, "Keras TensorFlow", None),  # too little to be sure
        (None, "12345 !!!", None),
        (None, None, None),
        ("!!", None, None),
    ],
)
def test_detect_language(declared: str | None, text: str | None, expected: str | None) -> None:
    assert detect_language(declared, text) == expected


# -- never raises --

MARKUP = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<img src=",
        "data-src='x'>",
        "&amp;",
        "&#",
        "<![",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<script>",
        "</script>",
        "<",
        ">",
        '"',
        "'",
        "\x00",
        "\ud800",
        "。",
        "\n",
    ]
)
ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(st.one_of(MARKUP, st.text(max_size=4)), max_size=30).map("".join),
)


@given(ANY_TEXT, st.one_of(st.none(), st.text(max_size=10)), st.integers(-5, 600))
def test_clean_title_never_raises(raw: str | None, source: str | None, limit: int) -> None:
    title = clean_title(raw, source_name=source, max_length=limit)
    assert title is None or (isinstance(title, str) and 0 < len(title) <= max(limit, 0))


@given(ANY_TEXT)
def test_html_to_text_never_raises(html: str | None) -> None:
    assert isinstance(html_to_text(html), str)


@given(ANY_TEXT, ANY_TEXT, st.integers(-5, 400))
def test_make_summary_never_raises(summary: str | None, text: str | None, limit: int) -> None:
    result = make_summary(summary, text, max_chars=limit)
    assert result is None or 0 < len(result) <= limit


@given(st.lists(ANY_TEXT, max_size=8))
def test_clean_terms_never_raises(values: list[str | None]) -> None:
    terms = clean_terms(values)
    assert all(term and term == term.strip() for term in terms)
    assert len({term.casefold() for term in terms}) == len(terms)


@given(ANY_TEXT, ANY_TEXT)
def test_detect_language_never_raises(declared: str | None, text: str | None) -> None:
    result = detect_language(declared, text)
    assert result is None or result == result.lower()


def test_huge_input_is_fast() -> None:
    html = "<p>" + "字" * 200 + "</p>"
    text = html_to_text(html * 5000)
    assert text.count("\n") == 4999
    assert clean_title("x" * 1_000_000) == "x" * 499 + "…"


@pytest.mark.parametrize(
    "markup",
    ["<" * 100_000, "<!--" * 20_000, "<a" * 50_000, "</" * 50_000, '<a href="' * 20_000 + ">"],
)
def test_unterminated_markup_is_read_in_linear_time(markup: str) -> None:
    # html.parser alone takes seconds on these (it rescans the rest for every "<")
    assert html_to_text(markup).replace("\n", "").strip('<!-a/ "hrf=>') == ""

"""archiver.normalize.provenance: the original publisher of a re-published article."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.normalize.provenance import Origin, detect_origin

URL = "https://36kr.com/p/1180000"


SEED_NOTE = (
    '<p>编者按：本文来自<a class="project-link" data-id="3968527" data-name="微信" '
    'href="https://36kr.com/projectDetails/3968527" target="_blank">微信</a>公众号'
    '<a target="_blank" rel="noopener noreferrer" href="https://mp.weixin.qq.com/s/PqXmFPi0qdSQWu-1hOREXw">'
    "“机器之心”（ID:almosthuman2014）</a>，36氪经授权发布。</p><p>正文。</p>"
)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            SEED_NOTE,
            Origin(
                "机器之心",
                "https://mp.weixin.qq.com/s/PqXmFPi0qdSQWu-1hOREXw",
                "almosthuman2014",
                "本文来自",
            ),
        ),
        (
            "<p>本文来自微信公众号“CSDN”（ID:CSDNnews），作者：郑丽媛，36氪经授权发布。</p>",
            Origin("CSDN", None, "CSDNnews", "本文来自"),
        ),
        (
            "<p>本文来自微信公众号：差评（ID：chaping321），作者：X</p>",
            Origin("差评", None, "chaping321", "本文来自"),
        ),
        ("<p>本文来自虎嗅，作者：某某</p>", Origin("虎嗅", None, None, "本文来自")),
        ("<p>本文转载自钛媒体。</p>", Origin("钛媒体", None, None, "转载自")),
        ("<p>正文。</p><p>来源：证券时报</p>", Origin("证券时报", None, None, "来源")),
        (
            '<p>正文（来源：<a href="http://www.stcn.com/x">证券时报网</a>）</p>',
            Origin("证券时报网", "http://www.stcn.com/x", None, "来源"),
        ),
        (
            "<p>正文</p><p>（来源：微信公众号“财经”（ID:caijing）)</p>",
            Origin("财经", None, "caijing", "来源"),
        ),
        (
            "<p>原标题：《谷歌杀死了 Keras》</p><p>来源：机器之心</p>",
            Origin("机器之心", None, None, "来源", title="谷歌杀死了 Keras"),
        ),
        (
            "<p>原标题：谷歌杀死了 Keras</p><p>正文</p>",
            Origin(None, None, None, "原标题", title="谷歌杀死了 Keras"),
        ),
        (
            "<p>Text.</p><p>Originally published at "
            '<a href="https://medium.com/@x/keras">Medium</a> on April 2, 2021.</p>',
            Origin("Medium", "https://medium.com/@x/keras", None, "originally-published"),
        ),
        (
            "<p>This post was originally published on The Keras Blog.</p>",
            Origin("The Keras Blog", None, None, "originally-published"),
        ),
        (
            "<p>This article first appeared on The Verge.</p>",
            Origin("The Verge", None, None, "first-appeared"),
        ),
        (
            '<p>This article first appeared in <a href="https://www.wired.com/x">WIRED</a>.</p>',
            Origin("WIRED", "https://www.wired.com/x", None, "first-appeared"),
        ),
        (
            "<p>This article is republished from The Conversation under a Creative Commons "
            "license.</p>",
            Origin("The Conversation", None, None, "republished"),
        ),
        (
            "<p>据@猫眼专业版 微博消息，票房破50亿。（新浪新闻）</p>",
            Origin("新浪新闻", None, None, "trailing-source"),
        ),
        # not notes
        ("<p>图片来源：视觉中国</p>", None),
        ("<p>资金来源：自有资金</p>", None),
        ("<p>来源：网络</p>", None),
        ("<p>价格上涨（完）</p>", None),
        ("<p>北京时间8月2日中午。</p>", None),
        ("<p>Keras was originally a research project.</p>", None),
        ("", None),
        (None, None),
    ],
)
def test_notes_in_the_body(html: str | None, expected: Origin | None) -> None:
    assert detect_origin(html, url=URL, canonical_url=None) == expected


def test_a_note_pointing_at_the_site_itself_is_no_origin() -> None:
    html = (
        '<p>The post <a href="https://blog.example.com/p/1">Title</a> appeared first on '
        '<a href="https://blog.example.com/">Example Blog</a>.</p>'
    )
    assert detect_origin(html, url="https://blog.example.com/p/1", canonical_url=None) is None


def test_a_note_deep_in_the_middle_is_ignored() -> None:
    middle = "".join(f"<p>段落{i}。</p>" for i in range(10))
    html = middle + "<p>来源：某报</p>" + middle
    assert detect_origin(html, url=URL, canonical_url=None) is None


@pytest.mark.parametrize(
    ("url", "canonical", "expected"),
    [
        (
            URL,
            "https://www.huxiu.com/article/1.html",
            Origin("huxiu.com", "https://www.huxiu.com/article/1.html", None, "canonical-host"),
        ),
        (URL, "https://36kr.com/p/1180000", None),
        ("https://m.36kr.com/p/1", "https://36kr.com/p/1", None),
        ("https://www.bbc.co.uk/news/1", "https://bbc.co.uk/news/1", None),
        (
            "https://news.example.co.uk/1",
            "https://other.co.uk/1",
            Origin("other.co.uk", "https://other.co.uk/1", None, "canonical-host"),
        ),
        ("https://feeds.feedburner.com/~r/x/1", "https://36kr.com/p/1", None),
        (URL, None, None),
        (None, "https://36kr.com/p/1", None),
        (URL, "not a url", None),
    ],
)
def test_canonical_on_another_site(
    url: str | None, canonical: str | None, expected: Origin | None
) -> None:
    assert detect_origin(None, url=url, canonical_url=canonical) == expected


def test_a_note_wins_over_the_canonical_host() -> None:
    origin = detect_origin(SEED_NOTE, url=URL, canonical_url="https://mp.weixin.qq.com/s/x")
    assert origin is not None
    assert origin.evidence == "本文来自"


ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "<p>",
                    "</p>",
                    "本文来自",
                    "公众号",
                    "“",
                    "”",
                    "（ID:",
                    "）",
                    "来源：",
                    "原标题：",
                    "《",
                    "》",
                    "Originally published at ",
                    '<a href="',
                    '">',
                    "</a>",
                    "first appeared on ",
                    "（",
                    "新闻）",
                    "\ud800",
                ]
            ),
            st.text(max_size=4),
        ),
        max_size=20,
    ).map("".join),
)


@given(ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_detect_origin_never_raises(
    html: str | None, url: str | None, canonical: str | None
) -> None:
    origin = detect_origin(html, url=url, canonical_url=canonical)
    assert origin is None or isinstance(origin.evidence, str)

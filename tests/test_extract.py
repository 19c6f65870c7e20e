"""Whole articles from their pages (archiver.extract): when to fetch, rules, the extractor."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import ConfigurationError, PageParseError
from archiver.extract.engine import extract_article
from archiver.extract.rules import BUILTIN_RULES, SiteRule, load_rules, rule_for, source_rule
from archiver.extract.shortfall import falls_short, page_wanted, text_weight

PAGE_URL = "https://news.example.com/2021/04/story.html"
PARAGRAPH = (
    "The committee met on Tuesday to discuss the new budget, which sets aside money for "
    "schools, roads and the city's libraries over the next three years."
)
LONG_BODY = "".join(f"<p>{PARAGRAPH} ({n})</p>" for n in range(8))


# -- when the feed falls short ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "no body"),
        ("<p> </p>", "no body"),
        ("<p>A short teaser.</p>", "short"),
        (LONG_BODY, None),
        (LONG_BODY + "<p>And then the mayor said…</p>", "cut off"),
        (LONG_BODY + "<p>The rest is below [&#8230;]</p>", "cut off"),
        (LONG_BODY + "<p>The rest is below [...]</p>", "cut off"),
        (LONG_BODY + "<p>Read more »</p>", "cut off"),
        (LONG_BODY + "<p>Continue reading →</p>", "cut off"),
        (LONG_BODY + "<p>本文共三千字，阅读全文</p>", "cut off"),
        (LONG_BODY + "<p>查看全文</p>", "cut off"),
        (LONG_BODY + "<p><a href='/x'>继续阅读</a></p>", "cut off"),
        (LONG_BODY + f"<p><a href='{PAGE_URL}'>The whole story</a></p>", "links to the page"),
        (
            LONG_BODY + "<p><a href='/2021/04/story.html#more'>On the site</a></p>",
            "links to the page",
        ),
        (LONG_BODY + "<p>See <a href='https://other.example/'>the other site</a></p>", None),
    ],
)
def test_an_entry_falls_short_when_it_has_no_whole_body(
    body: str | None, reason: str | None
) -> None:
    assert falls_short(body, PAGE_URL) == reason


def test_a_chinese_sentence_weighs_more_than_its_characters() -> None:
    sentence = "会议周二讨论了新的预算，为未来三年的学校、道路和图书馆拨款。"  # 30 characters
    assert text_weight(sentence) == 3 * len(sentence)
    assert falls_short(f"<p>{sentence * 7}</p>") is None  # 210 characters: a whole article
    assert falls_short(f"<p>{sentence * 5}</p>") == "short"  # 150: a summary
    assert falls_short("<p>" + "word " * 100 + "</p>") == "short"  # 100 short words


def test_the_full_text_mode_decides_first() -> None:
    assert page_wanted("never", None, PAGE_URL) is None
    assert page_wanted("always", LONG_BODY, PAGE_URL) == "always"
    assert page_wanted("auto", LONG_BODY, PAGE_URL) is None
    assert page_wanted("auto", "<p>Teaser</p>", PAGE_URL) == "short"
    assert page_wanted("always", None, "file:///tmp/page.html") is None  # never a local file
    assert page_wanted("auto", None, None) is None


# -- site rules ---------------------------------------------------------------------------

RULED_PAGE = f"""<html><head><title>Page title</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<h1 class="headline">The real headline</h1>
<span class="when" datetime="2021-04-02T08:00:00+08:00">2 April</span>
<div class="post-body"><p>{PARAGRAPH}</p><div class="share">Share this</div>
<p>Second paragraph.</p><img data-src="https://img.example.com/a/640?wx_fmt=jpeg"></div>
<aside>Related stories</aside></body></html>"""


def test_a_rules_file_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '["www.example.com"]\ncontent = "div.post-body"\nremove = [".share", "//aside"]\n'
        'title = "h1.headline"\ndate = ".when"\n',
        encoding="utf-8",
    )
    (rule,) = load_rules(path)
    assert rule == SiteRule(
        host="example.com",
        content=("div.post-body",),
        remove=(".share", "//aside"),
        title="h1.headline",
        date=".when",
        origin=str(path),
    )
    assert rule.matches("https://news.example.com/x")
    assert not rule.matches("https://example.org/")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["a.com"]\ncontent = "div[["\n', "not a CSS or XPath selector"),
        ('["a.com"]\ncontent = "//div[["\n', "not a CSS or XPath selector"),
        ('["a.com"]\nbody = "div"\n', "unknown keys: body"),
        ('["a.com"]\ncontent = 3\n', "a selector must be"),
        ('"a.com" = "div"\n', "must be a table"),
        ("[a.com\n", "cannot read the site rules"),
    ],
)
def test_a_bad_rules_file_says_where_and_what(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as error:
        load_rules(path)
    assert str(path) in str(error.value)


def test_the_most_specific_rule_wins() -> None:
    general = SiteRule(host="example.com", content=("main",))
    specific = SiteRule(host="news.example.com", content=("article",))
    assert rule_for(PAGE_URL, [general, specific]) is specific
    assert rule_for("https://blog.example.com/", [general, specific]) is general
    assert rule_for("https://example.org/", [general, specific]) is None
    assert rule_for("https://mp.weixin.qq.com/s/abc", BUILTIN_RULES).host == "mp.weixin.qq.com"
    assert rule_for("https://www.36kr.com/p/123", BUILTIN_RULES).host == "36kr.com"


def test_a_rule_overrides_the_extractor() -> None:
    rule = SiteRule(
        host="example.com",
        content=("div.post-body",),
        remove=(".share",),
        title="h1.headline",
        date=".when",
        origin="test",
    )
    item = extract_article(RULED_PAGE.encode(), PAGE_URL, rules=[rule])
    assert item.content_source == "page:rule"
    assert PARAGRAPH in item.content_html
    assert "Second paragraph." in item.content_html
    assert "Share this" not in item.content_html
    assert "Related" not in item.content_html
    assert 'data-src="https://img.example.com/a/640?wx_fmt=jpeg"' in item.content_html
    assert item.title_raw == "The real headline"
    assert item.published_raw == "2021-04-02T08:00:00+08:00"
    assert item.provenance["title"] == item.provenance["published"] == "page:rule"
    assert item.parse_errors == []


def test_a_rule_that_no_longer_matches_falls_back_and_says_so() -> None:
    rule = SiteRule(host="example.com", content=("div.article-text",), origin="rules.toml")
    item = extract_article(RULED_PAGE.encode(), PAGE_URL, rules=[rule])
    assert item.content_source == "page:extractor"
    assert PARAGRAPH in item.content_html
    assert item.parse_errors == [
        "site rule for news.example.com (rules.toml) matched nothing: div.article-text"
    ]


def test_a_sources_own_selectors_make_a_rule() -> None:
    rule = source_rule(PAGE_URL, ["div.post-body"], [".share"])
    assert rule is not None
    assert rule.host == "news.example.com"
    assert rule.origin == "source"
    assert source_rule(PAGE_URL) is None
    with pytest.raises(ConfigurationError):
        source_rule(PAGE_URL, ["div[["])


# -- the extractor ------------------------------------------------------------------------


def page(head: str, body: str) -> bytes:
    return f"<!doctype html><html lang='en'><head>{head}</head><body>{body}</body></html>".encode()


ARTICLE_BODY = f"""
<header><nav><a href="/">Home</a> · <a href="/world">World</a> · <a href="/sport">Sport</a></nav>
</header>
<article><h1>Budget passes</h1>
<p>{PARAGRAPH} The vote was close, and <a href="/people/mayor">the mayor</a> spoke last.</p>
<figure><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/media/vote.jpg"
 alt="The vote"><figcaption>The vote, on Tuesday.</figcaption></figure>
<p>{PARAGRAPH} Her remarks were brief.</p>
<picture><source srcset="/media/hall-800.webp 800w, /media/hall-1600.webp 1600w">
<img src="/media/hall-400.jpg" alt="The hall"></picture>
<p>{PARAGRAPH} It passed seven to six.</p>
<img src="https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png" alt="A chart">
</article>
<div class="comments"><h3>Comments</h3><p>First! Great article, thanks for sharing it.</p></div>
<footer><a href="/about">About us</a> © 2021 The Example News</footer>"""


def test_the_main_text_comes_without_navigation_or_comments() -> None:
    item = extract_article(
        page("<title>Budget passes | Example News</title>", ARTICLE_BODY), PAGE_URL
    )
    assert item.content_source == "page:extractor"
    html = item.content_html
    assert "It passed seven to six." in html
    assert "Her remarks were brief." in html
    for boilerplate in ("Home", "Sport", "About us", "First! Great article"):
        assert boilerplate not in html


def test_every_image_the_article_shows_is_kept_and_links_with_it() -> None:
    html = extract_article(page("", ARTICLE_BODY), PAGE_URL).content_html
    # lazy-loaded, the largest <picture> candidate, and a URL without an image extension
    assert '<img src="https://news.example.com/media/vote.jpg"' in html
    assert '<img src="https://news.example.com/media/hall-1600.webp"' in html
    assert '<img src="https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png"' in html
    assert html.index("vote.jpg") < html.index("hall-1600") < html.index("mmbiz")
    assert '<a href="https://news.example.com/people/mayor">the mayor</a> spoke last' in html
    assert "image.archiver.invalid" not in html


def test_the_pages_declarations_come_before_the_extractors_guesses() -> None:
    head = """<meta property="og:title" content="Budget passes, narrowly">
    <meta name="description" content="The city's budget, passed seven to six.">
    <meta property="article:published_time" content="2021-04-02T09:00:00Z">
    <meta property="og:image" content="/media/og.jpg">
    <script type="application/ld+json">{"@type": "NewsArticle", "headline": "LD headline",
     "datePublished": "2021-04-01T08:00:00+08:00", "author": {"name": "Li Lei"}}</script>"""
    item = extract_article(page(head, ARTICLE_BODY), PAGE_URL)
    assert item.title_raw == "Budget passes, narrowly"
    assert item.published_raw == "2021-04-01T08:00:00+08:00"  # JSON-LD, then article:*
    assert item.authors_raw == ["Li Lei"]
    assert item.og_image == "https://news.example.com/media/og.jpg"
    assert item.page_metadata["description"] == "The city's budget, passed seven to six."
    assert "license" not in item.page_metadata
    assert item.provenance == {
        "title": "page:og",
        "published": "page:json-ld",
        "authors": "page:json-ld",
        "headimg": "page:og",
        "language": "page:html",
        "summary": "page:meta",
    }


def test_a_page_with_only_a_time_element_or_nothing_is_dated_as_it_can_be() -> None:
    undated_url = "https://news.example.com/story"
    dated = ARTICLE_BODY.replace("<h1>", '<time datetime="2021-03-30T10:00">30 March</time><h1>')
    item = extract_article(page("", dated), undated_url)
    # htmldate reads the same day: the <time>, which has the time of day too, is kept
    assert item.published_raw == "2021-03-30T10:00"
    assert item.provenance["published"] == "page:html"
    no_year = ARTICLE_BODY.replace("© 2021 ", "")  # htmldate reads a copyright year as Jan 1
    undated = extract_article(page("", no_year), undated_url)
    assert undated.published_raw is None
    assert "published" not in undated.provenance
    from_url = extract_article(page("", no_year), "https://news.example.com/2021/04/02/story")
    assert from_url.provenance["published"] == "page:htmldate"
    assert from_url.published_raw == "2021-04-02"


def test_a_page_the_extractor_finds_nothing_in_keeps_its_body() -> None:
    item = extract_article(page("<title>Only a title</title>", "<div>Hi</div>"), PAGE_URL)
    assert item.content_source in ("page:body", "page:extractor")
    assert "Hi" in (item.content_html or "")


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "<p>",
                    "</p>",
                    "<article>",
                    "</article>",
                    "<img data-src='x.png'>",
                    "<a href=",
                    "'/y'>",
                    "</a>",
                    "<script>",
                    "<picture>",
                    "<source srcset='a 1x'>",
                    "<div>",
                    "<title>",
                    "&amp;",
                    "\x00",
                    "<![CDATA[",
                    "<meta property='og:title' content=",
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=40,
    )
)
def test_any_page_gives_an_article_or_a_page_error(pieces: list[str]) -> None:
    with contextlib.suppress(PageParseError):
        extract_article("".join(pieces).encode("utf-8", "surrogatepass"), PAGE_URL)


def test_the_built_in_rules_read_wechat_and_36kr_pages() -> None:
    wechat = page(
        "<title>公众号文章</title>",
        '<h1 id="activity-name">  微信公众号的文章  </h1><span id="js_author_name">机器之心</span>'
        '<div class="rich_media_content" id="js_content" style="visibility: hidden;">'
        f"<p>{PARAGRAPH}</p>"
        '<p><img class="rich_pages" data-src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg"'
        ' src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-type="jpeg"></p>'
        '<div id="js_pc_qr_code">扫码关注</div></div>',
    )
    item = extract_article(wechat, "https://mp.weixin.qq.com/s/abcdef", rules=BUILTIN_RULES)
    assert item.content_source == "page:rule"
    assert 'data-src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/640?wx_fmt=jpeg"' in item.content_html
    assert "扫码关注" not in item.content_html
    assert item.title_raw == "微信公众号的文章"
    assert item.authors_raw == ["机器之心"]
    kr = page(
        "<title>36氪</title>",
        '<h1 class="article-title">36氪的文章</h1><div class="kr-layout">'
        '<div class="common-width content articleDetailContent kr-rich-text-wrapper">'
        f"<p>{PARAGRAPH}</p><p>本文来自微信公众号“机器之心”。</p></div>"
        '<div class="kr-article-tags">标签</div></div>',
    )
    item = extract_article(kr, "https://www.36kr.com/p/1178463812616195", rules=BUILTIN_RULES)
    assert item.content_source == "page:rule"
    assert "本文来自微信公众号" in item.content_html
    assert "标签" not in item.content_html
    assert item.title_raw == "36氪的文章"

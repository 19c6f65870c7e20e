"""Reading article pages (archiver.readers.pages): every extraction rule on inline pages."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from archiver.errors import PageParseError
from archiver.items import ArticleItem
from archiver.readers.pages import parse_article_page
from pipelines.frontmatter import FrontMatterPipeline
from tests.mocksite.corpus import ARTICLES, ARTICLES_BY_SLUG, article_page, fidelity_bodies

URL = "https://news.example.com/2021/04/keras.html"
BASE = "http://127.0.0.1:8000"


def page(head: str = "", body: str = "", *, lang: str = "en") -> bytes:
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n{head}\n</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    ).encode()


def read(document: bytes, content_type: str | None = "text/html", url: str = URL) -> ArticleItem:
    return parse_article_page(document, url, content_type=content_type)


def normalized(item: ArticleItem) -> ArticleItem:
    crawler = get_crawler()
    crawler.stats.open_spider()  # type: ignore[union-attr]
    FrontMatterPipeline.from_crawler(crawler).process_item(item)
    return item


# -- the body ---------------------------------------------------------------------------------


@pytest.mark.parametrize("article", ARTICLES, ids=lambda a: a.slug)
def test_mock_site_pages_byte_for_byte(article: object) -> None:
    text = article_page(article, BASE)  # type: ignore[arg-type]
    item = read(text.encode(), "text/html; charset=utf-8", f"{BASE}/articles/x.html")
    inner = text[text.index("<article>") + len("<article>") : text.index("</article>")]
    assert item.content_html == inner
    assert item.parse_errors == []


@pytest.mark.parametrize(
    ("open_tag", "close_tag"),
    [
        ("<article>", "</article>"),
        ('<div class="post" itemprop="articleBody">', "</div>"),
        ('<section itemprop="text articleBody">', "</section>"),
        ("<main>", "</main>"),
    ],
)
@pytest.mark.parametrize("guid", sorted(fidelity_bodies(BASE)))
def test_bodies_survive_byte_for_byte(open_tag: str, close_tag: str, guid: str) -> None:
    """The fidelity bodies (lazy images, srcset, <picture>, iframes, comments, unclosed tags,
    entities) come out as written, whichever selector finds them."""
    body = fidelity_bodies(BASE)[guid][1]
    if "js_content" in body and open_tag in ("<main>",):
        body = body.replace('id="js_content"', 'id="elsewhere"').replace("rich_media_content", "x")
    head = "<title>t</title><script>var s = '<article><div>';</script>"
    document = page(
        head, f"<nav><ul><li>menu</li></ul></nav>\n{open_tag}{body}{close_tag}\n<footer>f</footer>"
    )
    item = read(document)
    assert item.content_html == body
    assert item.parse_errors == []


def test_selectors_in_order_wechat() -> None:
    body = (
        '\n<p><img data-src="https://mmbiz.qpic.cn/a/640" src="data:image/gif;base64,R0lGOD"></p>\n'
    )
    document = page(
        '<meta property="og:title" content="公众号文章">',
        f'<div id="page-content"><div class="rich_media_content " id="js_content" '
        f'style="visibility: hidden;">{body}</div></div>',
    )
    assert read(document).content_html == body


def test_rich_media_content_without_its_id() -> None:
    document = page("<title>t</title>", '<div class="a rich_media_content b"><p>正文</p></div>')
    assert read(document).content_html == "<p>正文</p>"


def test_the_biggest_of_several_articles() -> None:
    teaser = "<article><p>Related: another story</p></article>"
    main = "<article><h1>T</h1><p>" + "The story itself. " * 20 + "</p></article>"
    assert read(page("<title>t</title>", teaser + main)).content_html == main[9:-10]


def test_an_empty_article_shell_falls_through() -> None:
    """An element that only a script fills (no text, no image) is not the content."""
    document = page("<title>t</title>", '<article id="app"></article><main><p>Hello</p></main>')
    assert read(document).content_html == "<p>Hello</p>"


def test_density_picks_the_paragraphs() -> None:
    story = "".join(f"<p>Paragraph {n} of the story, long enough to count.</p>\n" for n in range(5))
    document = page(
        "<title>t</title>",
        '<div id="top"><div class="menu"><p>Home</p><p>About</p></div>'
        f'<div class="content">\n{story}</div>'
        '<div class="sidebar"><p>A single sidebar paragraph of some length.</p></div></div>'
        "<footer><p>" + "Footer text that is long and boring. " * 10 + "</p></footer>",
    )
    assert read(document).content_html == f"\n{story}"


def test_density_reads_br_separated_text() -> None:
    """Old pages: text straight in a <td>, lines broken with <br>."""
    text = "第一段文字，足够长，可以算作正文。<br>第二段文字，也足够长，也算正文。<br>"
    document = page("<title>t</title>", f"<table><tr><td>nav</td><td>{text}</td></tr></table>")
    assert read(document).content_html == text


def test_no_body_at_all_is_the_whole_body() -> None:
    document = page("<title>Only a title</title>", "<span>short</span>")
    item = read(document)
    assert item.content_html == "\n<span>short</span>\n"
    assert item.title_raw == "Only a title"


def test_markup_the_parser_repairs_is_serialized_and_said() -> None:
    """An <article> whose text never closes it: the parser's reading, and a parse error."""
    document = page("<title>t</title>", "<article><p>Unclosed to the end")
    item = read(document)
    assert item.content_html is not None
    assert "Unclosed to the end" in item.content_html
    assert any("serialized" in error for error in item.parse_errors)


# -- metadata ---------------------------------------------------------------------------------


def test_title_rules() -> None:
    both = page('<meta property="og:title" content="OG title"><title>Doc - Site</title>')
    assert read(both).title_raw == "OG title"
    title = page("<title>  Doc\n title  </title>", "<h1>Heading</h1>")
    assert read(title).title_raw == "Doc title"
    heading = page("", "<h1>The <em>heading</em></h1><p>text</p>")
    assert read(heading).title_raw == "The heading"
    ld = page(
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":"LD"}</script>'
        "<title>Doc</title>"
    )
    assert read(ld).title_raw == "LD"


def test_canonical_is_absolute_and_base_href_counts() -> None:
    item = read(page('<link rel="canonical" href="/a/1?utm_source=x">', "<p>x</p>"))
    assert item.canonical_url == "https://news.example.com/a/1?utm_source=x"
    assert item.base_url == URL
    based = read(
        page(
            '<base href="https://cdn.example.com/s/"><link rel="Canonical" href="a/2">', "<p>x</p>"
        )
    )
    assert based.base_url == "https://cdn.example.com/s/"
    assert based.canonical_url == "https://cdn.example.com/s/a/2"


@pytest.mark.parametrize(
    ("head", "body", "published", "updated"),
    [
        (
            '<meta property="article:published_time" content="2021-04-02T14:27:15+08:00">'
            '<meta property="article:modified_time" content="2021-04-03T10:00:00+08:00">',
            "",
            "2021-04-02T14:27:15+08:00",
            "2021-04-03T10:00:00+08:00",
        ),
        (
            "",
            '<time itemprop="datePublished" datetime="2021-04-02">April 2</time>'
            '<meta itemprop="dateModified" content="2021-04-05">',
            "2021-04-02",
            "2021-04-05",
        ),
        (
            '<script type="application/ld+json">{"@context":"https://schema.org","@graph":['
            '{"@type":"WebSite","name":"S"},{"@type":["NewsArticle"],"datePublished":'
            '"2021-04-02T06:27:15Z","dateModified":"2021-04-02T07:00:00Z"}]}</script>',
            "",
            "2021-04-02T06:27:15Z",
            "2021-04-02T07:00:00Z",
        ),
        ("", '<p>x</p><time datetime="2021-04-02 14:27">昨天</time>', "2021-04-02 14:27", None),
        ('<meta name="pubdate" content="20210402">', "", "20210402", None),
    ],
)
def test_dates(head: str, body: str, published: str, updated: str | None) -> None:
    item = read(page("<title>t</title>" + head, body))
    assert item.published_raw == published
    assert item.updated_raw == updated


def test_time_in_the_content_wins_over_a_sidebar() -> None:
    document = page(
        "<title>t</title>",
        '<aside><time datetime="2020-01-01">old</time></aside>'
        '<article><p>x</p><time datetime="2021-04-02">new</time></article>',
    )
    assert read(document).published_raw == "2021-04-02"


@pytest.mark.parametrize(
    ("head", "body", "authors"),
    [
        ('<meta name="author" content="机器之心">', "", ["机器之心"]),
        (
            '<meta property="article:author" content="https://facebook.com/jane">'
            '<meta property="article:author" content="Jane Doe">',
            "",
            ["Jane Doe"],
        ),
        (
            '<script type="application/ld+json">{"@type":"BlogPosting","author":'
            '[{"@type":"Person","name":"A"},{"name":"B"},"C"]}</script>',
            "",
            ["A", "B", "C"],
        ),
        ("", '<p>By <a rel="author" href="/u/z">Zhang Wei</a></p>', ["Zhang Wei"]),
        ("", "<p>nobody</p>", []),
    ],
)
def test_authors(head: str, body: str, authors: list[str]) -> None:
    assert read(page("<title>t</title>" + head, body)).authors_raw == authors


def test_og_image_language_categories_description_site() -> None:
    item = read(
        page(
            '<meta property="og:image" content="/img/cover.jpg">'
            '<meta property="og:site_name" content="Example News">'
            '<meta property="og:description" content="A &lt;b&gt; &amp; c">'
            '<meta property="article:section" content="Tech">'
            '<meta property="article:tag" content="AI">'
            '<meta property="article:tag" content="Keras">'
            '<script type="application/ld+json">{"@type":"Article","keywords":"AI, TensorFlow",'
            '"articleSection":["Tech"]}</script><title>t</title>',
            "<p>x</p>",
            lang="zh-CN",
        )
    )
    assert item.og_image == "https://news.example.com/img/cover.jpg"
    assert item.language_raw == "zh-CN"
    assert item.categories_raw == ["Tech", "AI", "Keras", "TensorFlow"]
    assert item.summary_html == "A &lt;b&gt; &amp; c"
    assert item.feed_title == "Example News"
    assert item.source_kind == "page"
    assert item.url == item.source_url == URL


def test_json_ld_image_and_broken_json_ld() -> None:
    item = read(
        page(
            '<script type="application/ld+json">{"@type": "Article", trailing,}</script>'
            '<script type="application/ld+json">{"@type":"Article","image":'
            '{"@type":"ImageObject","url":"https://cdn.example.com/i.png"}}</script><title>t</title>'
        )
    )
    assert item.og_image == "https://cdn.example.com/i.png"
    assert any("JSON-LD" in error for error in item.parse_errors)


def test_language_fallbacks() -> None:
    document = (
        b'<html><head><meta http-equiv="Content-Language" content="ja, en"><title>t</title>'
        b"</head><body><p>x</p></body></html>"
    )
    assert read(document).language_raw == "ja"
    locale = (
        b'<html><head><meta property="og:locale" content="zh_TW"><title>t</title></head></html>'
    )
    assert read(locale).language_raw == "zh-TW"


# -- decoding ---------------------------------------------------------------------------------


def test_meta_charset_gbk_and_header_precedence() -> None:
    text = (
        '<html><head><meta charset="gb2312"><title>王堃的文章</title></head>'
        "<body><p>喆</p></body></html>"
    )
    document = text.encode("gb18030")
    item = read(document, "text/html")
    assert item.title_raw == "王堃的文章"
    assert item.content_html == "<p>喆</p>"
    http_equiv = text.replace(
        '<meta charset="gb2312">',
        '<meta http-equiv="Content-Type" content="text/html; charset=GBK">',
    )
    assert read(http_equiv.encode("gbk"), None).title_raw == "王堃的文章"
    # The HTTP charset wins over the page's own claim.
    utf8 = text.replace("gb2312", "iso-8859-1").encode("utf-8")
    assert read(utf8, "text/html; charset=utf-8").title_raw == "王堃的文章"


def test_xhtml_with_an_xml_declaration() -> None:
    document = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
        b'xml:lang="fr"><head><title>\xc3\xa9t\xc3\xa9</title></head><body><article><p>x</p>'
        b"</article></body></html>"
    )
    item = read(document, "application/xhtml+xml")
    assert item.title_raw == "été"
    assert item.content_html == "<p>x</p>"
    assert item.language_raw == "fr"


# -- what is not a page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "content_type"),
    [
        (b"", "text/html"),
        (b"   \n", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"<html><body><p>x</p></body></html>", "application/pdf"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "application/json"),
        (b"just some words", "text/plain"),
        (b"<html><head></head><body>  </body></html>", "text/html"),
        (b"<html><body><script>document.write('hi')</script></body></html>", "text/html"),
    ],
)
def test_not_article_pages(document: bytes, content_type: str | None) -> None:
    with pytest.raises(PageParseError):
        read(document, content_type)


# -- through the front-matter pipeline --------------------------------------------------------


def test_the_mock_keras_page_normalized() -> None:
    keras = ARTICLES_BY_SLUG["keras"]
    item = read(article_page(keras, BASE).encode(), "text/html", f"{BASE}/p/1188230")
    normalized(item)
    assert item.url == f"{BASE}/p/1188230"
    assert item.canonical_url == f"{BASE}/articles/keras.html"
    assert item.key == item.canonical_url  # the identity: no guid, the canonical URL
    assert item.title == keras.title
    assert item.authors == ["机器之心"]
    assert item.published == datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)
    assert item.categories == list(keras.categories)
    assert item.language == "zh-cn"
    assert item.headimg == f"{BASE}{keras.images[0]}"  # og:image


@pytest.mark.parametrize(
    ("canonical", "expected"),
    [
        ("https://News.Example.com:443/a/1?utm_source=rss#top", "https://news.example.com/a/1"),
        ("undefined", URL),  # a placeholder: the page's own URL
        ("javascript:void(0)", URL),
        ("/", URL),  # the home page, named by every page of a broken template
        (None, URL),
    ],
)
def test_canonical_url_is_canonicalized_and_falls_back(
    canonical: str | None, expected: str
) -> None:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    item = normalized(read(page(f"<title>t</title>{link}", "<p>x</p>")))
    assert item.canonical_url == expected
    assert item.key == expected


def test_og_image_is_the_head_image_before_the_body() -> None:
    item = normalized(
        read(
            page(
                '<title>t</title><meta property="og:image" content="https://cdn.example.com/og.jpg">',
                '<article><p><img src="https://cdn.example.com/body.jpg"></p></article>',
            )
        )
    )
    assert item.headimg == "https://cdn.example.com/og.jpg"


# -- any input ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_nothing_but_page_parse_error(document: bytes) -> None:
    try:
        item = read(document, None)
    except PageParseError:
        return
    assert isinstance(item, ArticleItem)


PAGE_PIECES = st.sampled_from(
    [
        "<html>", "<head>", "</head>", "<body>", "</body>", "<title>", "</title>", "<article>",
        "</article>", "<main>", "</main>", "<div>", "</div>", '<div id="js_content">', "<p>",
        "</p>", "<br>", "<script>", "</script>", "<style>", "</style>", "<!--", "-->",
        "<![CDATA[", "]]>", '<div itemprop="articleBody">', "<textarea>", "</textarea>", "&amp;",
        "&nbsp;", "<", ">", '"', "'", "=", "<img src=a.png>", '<meta property="og:title" content="',
        '<link rel="canonical" href="', '<script type="application/ld+json">',
        '{"@type": "Article", "author": [', "]}", '<time datetime="2021-04-02">',
        "\x00", "\ufeff", "谷歌", "text ",
    ]
)  # fmt: skip


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.one_of(PAGE_PIECES, st.text(max_size=5)), max_size=40))
def test_html_like_input_is_cut_exactly_or_said(pieces: list[str]) -> None:
    """Whatever the markup, the content is a slice of the page as written, or the item says
    it was serialized."""
    text = "".join(pieces)
    try:
        item = read(text.encode("utf-8", "surrogatepass"), "text/html; charset=utf-8")
    except PageParseError:
        return
    serialized = any("serialized" in error for error in item.parse_errors)
    if item.content_html is not None and not serialized:
        assert item.content_html in text.removeprefix("\ufeff") or not item.content_html


def test_json_ld_depth_and_size_are_bounded() -> None:
    deep: object = {"@type": "Article", "headline": "deep"}
    for _ in range(50):
        deep = {"@graph": [deep]}
    item = read(
        page(f'<script type="application/ld+json">{json.dumps(deep)}</script><title>t</title>')
    )
    assert item.title_raw == "t"  # too deep to look into: ignored, no error


def test_a_web_pages_base_never_makes_its_links_local_files() -> None:
    body = '<article><p>text of the page</p><img src="passwd"></article>'
    item = normalized(read(page('<base href="file:///etc/">', body)))
    assert item.base_url == URL
    assert item.headimg is not None
    assert not item.headimg.startswith("file:")
    on_disk = read(page('<base href="../img/">', body), url="file:///srv/pages/a.html")
    assert on_disk.base_url == "file:///srv/img/"  # a page read from disk keeps its own

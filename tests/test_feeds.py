"""Tests for archiver.readers.feeds: every format, exact content, URLs, encodings, broken input."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import FeedParseError
from archiver.items import MediaRef
from archiver.readers.feeds import ParsedFeed, decode_document, parse_feed, sniff_feed_kind

FEED_URL = "https://example.com/feeds/main.xml"
FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# Markup feedparser's sanitizer would strip or rewrite, with odd spacing, attribute order and
# quoting: the stored string must be this, character for character.
TRICKY_HTML = (
    '<p  class="lead" data-id=\'7\'>Hi <img data-src="/img/a.jpg" '
    'srcset="/img/a.jpg 1x,  /img/b.jpg 2x"   alt="A"\n     referrerpolicy="no-referrer"></p>\n'
    '<picture><source srcset="/c.webp" type="image/webp"><img src="c.jpg"></picture>\t\n'
    '<iframe src="https://player.example/v/1" data-autoplay="0" allowfullscreen></iframe>'
    "<p>&nbsp;&copy; 2024 &amp; <span data-x>x</span></p>"
)


def parse(document: str | bytes, **kwargs: object) -> ParsedFeed:
    body = document.encode("utf-8") if isinstance(document, str) else document
    return parse_feed(body, FEED_URL, **kwargs)  # type: ignore[arg-type]


# -- RSS 2.0 ---------------------------------------------------------------------------------

RSS2 = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Example &amp; Co</title>
  <link>/</link>
  <language>zh-cn</language>
  <ttl>30</ttl>
  <item>
    <title>First &amp;amp; <![CDATA[<b>bold</b>]]></title>
    <link>/posts/1.html</link>
    <guid isPermaLink="false">post-1</guid>
    <author>jane@example.com (Jane)</author>
    <dc:creator>作者：王五</dc:creator>
    <pubDate>Tue, 30 Apr 2024 08:00:00 +0800</pubDate>
    <dc:date>2024-04-30T00:00:00Z</dc:date>
    <category>News</category>
    <dc:subject>World</dc:subject>
    <category domain="x">  Asia </category>
    <description>A short summary &lt;b&gt;here&lt;/b&gt;</description>
    <content:encoded><![CDATA[{TRICKY_HTML}]]></content:encoded>
    <enclosure url="/audio/1.mp3" type="audio/mpeg" length="1234"/>
    <media:content url="https://cdn.example.com/1.jpg" type="image/jpeg" width="640" height="480"
        fileSize="999">
      <media:thumbnail url="/thumbs/1.jpg" width="64" height="48"/>
    </media:content>
    <media:group>
      <media:content url="/2.jpg" medium="image"/>
      <media:thumbnail url="/thumbs/2.jpg"/>
    </media:group>
  </item>
  <item>
    <title>Second</title>
    <guid>https://example.com/posts/2</guid>
    <description><![CDATA[<p>Only a description</p>]]></description>
  </item>
  <item>
    <description>No title, no link, no guid</description>
  </item>
</channel>
</rss>"""


def test_rss2_feed_metadata() -> None:
    feed = parse(RSS2)
    assert feed.kind == "rss"
    assert feed.title == "Example & Co"
    assert feed.link == "https://example.com/"
    assert feed.language == "zh-cn"
    assert feed.ttl == 30
    assert feed.encoding == "utf-8"
    assert feed.errors == []
    assert len(feed.entries) == 3


def test_rss2_entry_reads_everything() -> None:
    entry = parse_feed(RSS2.encode(), FEED_URL, fetched_at=FETCHED).entries[0]
    assert entry.url == "https://example.com/posts/1.html"
    assert entry.source_url == FEED_URL
    assert entry.source_kind == "rss"
    assert entry.fetched_at == FETCHED
    assert entry.guid == "post-1"
    assert entry.title_raw == "First &amp; <b>bold</b>"
    assert entry.authors_raw == ["jane@example.com (Jane)", "作者：王五"]
    assert entry.published_raw == "Tue, 30 Apr 2024 08:00:00 +0800"
    assert entry.updated_raw is None
    assert entry.categories_raw == ["News", "World", "Asia"]
    assert entry.summary_html == "A short summary <b>here</b>"
    assert entry.content_html == TRICKY_HTML
    assert entry.language_raw == "zh-cn"
    assert entry.feed_title == "Example & Co"
    assert entry.feed_link == "https://example.com/"
    assert entry.parse_errors == []


def test_rss2_media_in_document_order_with_roles() -> None:
    entry = parse(RSS2).entries[0]
    assert entry.media == [
        MediaRef("https://example.com/audio/1.mp3", "enclosure", "audio/mpeg", length=1234),
        MediaRef(
            "https://cdn.example.com/1.jpg", "media:content", "image/jpeg", 640, 480, length=999
        ),
        MediaRef("https://example.com/thumbs/1.jpg", "media:thumbnail", None, 64, 48),
        MediaRef("https://example.com/2.jpg", "media:content"),
        MediaRef("https://example.com/thumbs/2.jpg", "media:thumbnail"),
    ]


def test_rss2_summary_stands_in_for_missing_content() -> None:
    entry = parse(RSS2).entries[1]
    assert entry.content_html == entry.summary_html == "<p>Only a description</p>"


def test_guid_that_is_a_url_is_the_link_and_others_are_anchored_on_the_feed() -> None:
    feed = parse(RSS2)
    assert feed.entries[1].url == "https://example.com/posts/2"
    assert feed.entries[2].url.startswith("https://example.com/feeds/main.xml#entry-")
    # Stable from one fetch to the next: the same entry gets the same URL.
    assert parse(RSS2).entries[2].url == feed.entries[2].url

    only_guid = parse(
        "<rss><channel><item><title>t</title><guid isPermaLink='false'>a b/c</guid></item>"
        "</channel></rss>"
    )
    assert only_guid.entries[0].url == f"{FEED_URL}#a%20b%2Fc"


def test_relative_guid_marked_permalink_is_resolved() -> None:
    feed = parse('<rss><channel><item><guid isPermaLink="true">/p/9</guid></item></channel></rss>')
    assert feed.entries[0].url == "https://example.com/p/9"
    assert feed.entries[0].guid == "/p/9"


def test_entry_language_overrides_the_feed() -> None:
    feed = parse(
        "<rss xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><language>en</language>"
        "<item><title>a</title><dc:language>fr</dc:language></item>"
        "<item><title>b</title></item></channel></rss>"
    )
    assert [e.language_raw for e in feed.entries] == ["fr", "en"]


def test_unescaped_inline_html_in_description_is_kept_as_written() -> None:
    inline = 'Hello <a  href="/x" data-k="v">world</a><br/> <!-- note --> &amp; bye'
    feed = parse(f"<rss><channel><item><description>{inline}</description></item></channel></rss>")
    assert feed.entries[0].summary_html == inline


def test_rss091_with_netscape_doctype_and_html_entities() -> None:
    feed = parse(
        '<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        ' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        '<rss version="0.91"><channel><title>Old&nbsp;School</title><link>http://old.example/</link>'
        "<language>en-us</language><item><title>Caf&eacute;</title><link>http://old.example/1</link>"
        "<description>It&#39;s &lt;i&gt;fine&lt;/i&gt;</description></item></channel></rss>"
    )
    assert feed.kind == "rss"
    assert feed.title == "Old\xa0School"
    entry = feed.entries[0]
    assert (entry.title_raw, entry.url) == ("Café", "http://old.example/1")
    assert entry.content_html == "It's <i>fine</i>"
    assert any("nbsp" in error for error in feed.errors)  # recorded, then repaired


def test_rss092_item_without_channel_wrapper_items() -> None:
    feed = parse(
        '<rss version="0.92"><channel><title>c</title></channel>'
        "<item><title>stray</title><link>http://a/1</link></item></rss>"
    )
    assert [e.title_raw for e in feed.entries] == ["stray"]


# -- RDF: RSS 1.0 and 0.90 -------------------------------------------------------------------

RSS1 = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://example.org/">
    <title>RDF site</title><link>https://example.org/</link>
    <dc:language>ja</dc:language>
    <items><rdf:Seq><rdf:li rdf:resource="https://example.org/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://example.org/a">
    <title>A</title><link>https://example.org/a</link>
    <dc:creator>Taro</dc:creator><dc:date>2024-01-02T03:04:05+09:00</dc:date>
    <dc:subject>tech</dc:subject>
    <description>sum</description>
    <content:encoded>&lt;p data-x="1"&gt;full&lt;/p&gt;</content:encoded>
  </item>
</rdf:RDF>"""


def test_rss10_rdf() -> None:
    feed = parse(RSS1)
    assert (feed.kind, feed.title, feed.link, feed.language) == (
        "rdf",
        "RDF site",
        "https://example.org/",
        "ja",
    )
    entry = feed.entries[0]
    assert entry.source_kind == "rdf"
    assert entry.guid == "https://example.org/a"  # rdf:about
    assert entry.authors_raw == ["Taro"]
    assert entry.published_raw == "2024-01-02T03:04:05+09:00"
    assert entry.categories_raw == ["tech"]
    assert entry.summary_html == "sum"
    assert entry.content_html == '<p data-x="1">full</p>'
    assert entry.language_raw == "ja"


def test_rss090() -> None:
    feed = parse(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>Mozilla</title>'
        "<link>http://www.mozilla.org</link></channel>"
        "<item><title>New Status</title><link>http://www.mozilla.org/status/</link></item>"
        "</rdf:RDF>"
    )
    assert feed.kind == "rdf"
    assert [(e.title_raw, e.url) for e in feed.entries] == [
        ("New Status", "http://www.mozilla.org/status/")
    ]


# -- Atom 1.0 and 0.3 ------------------------------------------------------------------------

XHTML_BODY = (
    '\n  <p   class="a" data-src="/x.png"  id=\'q\'>Text&#160;&amp; <b>bold</b><br/>'
    '<img src="rel.png" srcset="rel.png 1x, rel@2x.png 2x" referrerpolicy="origin" />\n'
    '<!-- kept --></p>\n  <iframe src="//v.example/e" data-a="1"></iframe>\n'
)
ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.net/base/"
      xml:lang="en-GB">
  <title type="html">Blog &amp;amp; more</title>
  <link rel="self" href="/atom.xml"/>
  <link rel="alternate" type="text/html" href="home/"/>
  <author><name>Feed Author</name></author>
  <entry xml:base="2024/">
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"
      >An <em>xhtml</em> title</div></title>
    <id>tag:blog.example.net,2024:1</id>
    <link rel="alternate" type="application/json" href="one.json"/>
    <link href="one.html"/>
    <link rel="enclosure" href="ep1.mp3" type="audio/mpeg" length="42"/>
    <link rel="enclosure" xml:base="/media/" href="ep1.ogg"/>
    <published>2024-01-01T10:00:00+01:00</published>
    <updated>2024-01-02T10:00:00Z</updated>
    <author><name>Ann</name><email>ann@example.net</email></author>
    <author><email>bob@example.net</email></author>
    <category term="python" label="Python"/>
    <category scheme="x" label="Only label"/>
    <summary type="html">&lt;p&gt;Sum &amp;amp; mary&lt;/p&gt;</summary>
    <content type="xhtml" xml:lang="fr"><div xmlns="http://www.w3.org/1999/xhtml">{XHTML_BODY}</div></content>
  </entry>
  <entry xml:lang="de">
    <title>Text title &lt;3</title>
    <id>https://blog.example.net/p/2</id>
    <updated>2024-02-01T00:00:00Z</updated>
    <content type="text">plain &lt;text&gt;</content>
  </entry>
</feed>"""


def test_atom10_feed_metadata() -> None:
    feed = parse(ATOM)
    assert feed.kind == "atom"
    assert feed.title == "Blog &amp; more"
    assert feed.link == "https://blog.example.net/base/home/"
    assert feed.language == "en-GB"
    assert feed.ttl is None


def test_atom10_entry_with_nested_xml_base() -> None:
    entry = parse(ATOM).entries[0]
    assert entry.url == "https://blog.example.net/base/2024/one.html"
    assert entry.guid == "tag:blog.example.net,2024:1"
    assert entry.title_raw == "An <em>xhtml</em> title"
    assert entry.published_raw == "2024-01-01T10:00:00+01:00"
    assert entry.updated_raw == "2024-01-02T10:00:00Z"
    assert entry.authors_raw == ["Ann", "bob@example.net"]
    assert entry.categories_raw == ["python", "Only label"]
    assert entry.summary_html == "<p>Sum &amp; mary</p>"
    assert entry.media == [
        MediaRef(
            "https://blog.example.net/base/2024/ep1.mp3", "enclosure", "audio/mpeg", length=42
        ),
        MediaRef("https://blog.example.net/media/ep1.ogg", "enclosure"),
    ]
    assert entry.language_raw == "en-GB"  # xml:lang on <content> is not the entry's


def test_atom_xhtml_content_is_the_source_text_inside_the_div() -> None:
    entry = parse(ATOM).entries[0]
    assert entry.content_html == XHTML_BODY
    assert entry.content_html in ATOM  # a substring of the document, not a re-serialization


def test_atom_xhtml_content_without_namespace_prefix_games() -> None:
    body = '<x:p xmlns:x="http://www.w3.org/1999/xhtml">prefixed</x:p>'
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="xhtml">'
        f'<xhtml:div xmlns:xhtml="http://www.w3.org/1999/xhtml">{body}</xhtml:div>'
        "</content></entry></feed>"
    )
    assert feed.entries[0].content_html == body


def test_atom_text_entry_inherits_feed_author_and_keeps_text() -> None:
    entry = parse(ATOM).entries[1]
    assert entry.title_raw == "Text title <3"
    assert entry.url == "https://blog.example.net/p/2"  # an http(s) id stands in for a link
    assert entry.authors_raw == ["Feed Author"]
    assert entry.content_html == "plain <text>"
    assert entry.language_raw == "de"


def test_atom_source_author_comes_before_feed_author() -> None:
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><author><name>F</name></author>'
        "<entry><title>t</title><source><author><name>S</name></author></source></entry></feed>"
    )
    assert feed.entries[0].authors_raw == ["S"]


def test_atom_out_of_line_content_falls_back_to_summary() -> None:
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><summary>s</summary>'
        '<content src="https://example.com/full" type="text/html"/></entry></feed>'
    )
    assert feed.entries[0].content_html == "s"


def test_atom03() -> None:
    feed = parse(
        '<feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="en">'
        '<title mode="escaped" type="text/html">Old &amp;lt;Atom&amp;gt;</title>'
        '<link rel="alternate" type="text/html" href="http://old.example/"/>'
        "<entry><title>E1</title>"
        '<link rel="alternate" type="text/html" href="http://old.example/e1"/>'
        "<id>tag:old.example,2004:1</id><issued>2004-01-01T00:00:00Z</issued>"
        "<modified>2004-01-02T00:00:00Z</modified><author><name>Mark</name></author>"
        '<summary type="text/plain">s</summary>'
        '<content type="text/html" mode="escaped">&lt;p data-a="b"&gt;escaped&lt;/p&gt;</content>'
        "</entry><entry><title>E2</title>"
        '<content type="text/html" mode="base64">PHA+YmFzZTY0PC9wPg==</content></entry></feed>'
    )
    assert (feed.kind, feed.title, feed.link) == ("atom", "Old &lt;Atom&gt;", "http://old.example/")
    first, second = feed.entries
    assert first.url == "http://old.example/e1"
    assert (first.published_raw, first.updated_raw) == (
        "2004-01-01T00:00:00Z",
        "2004-01-02T00:00:00Z",
    )
    assert first.authors_raw == ["Mark"]
    assert first.content_html == '<p data-a="b">escaped</p>'
    assert second.content_html == "<p>base64</p>"


# -- JSON Feed -------------------------------------------------------------------------------

JSON_FEED_11 = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "JSON blog",
    "home_page_url": "/",
    "language": "zh-TW",
    "authors": [{"name": "Feed Person"}],
    "items": [
        {
            "id": "1",
            "url": "/p/1",
            "external_url": "https://elsewhere.example/x",
            "title": "One",
            "content_html": TRICKY_HTML,
            "content_text": "plain",
            "summary": "sum",
            "image": "/i/1.png",
            "banner_image": "https://cdn.example/b.png",
            "date_published": "2024-03-01T00:00:00+08:00",
            "date_modified": "2024-03-02T00:00:00+08:00",
            "authors": [{"name": "Ann", "url": "https://ann.example"}, {"url": "https://u"}],
            "tags": ["a", "b", 3],
            "language": "en",
            "attachments": [
                {"url": "/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 100},
                {"mime_type": "no url"},
            ],
        },
        {"id": 2, "content_text": "text only", "external_url": "https://ext.example/2"},
        {"id": "not-a-url", "summary": "s"},
        "not an object",
    ],
}


def test_json_feed_11() -> None:
    feed = parse(json.dumps(JSON_FEED_11), fetched_at=FETCHED)
    assert (feed.kind, feed.title, feed.link, feed.language, feed.ttl) == (
        "json",
        "JSON blog",
        "https://example.com/",
        "zh-TW",
        None,
    )
    assert len(feed.entries) == 3
    assert any("item 3" in error for error in feed.errors)
    first, second, third = feed.entries
    assert first.url == "https://example.com/p/1"
    assert first.source_kind == "json"
    assert first.fetched_at == FETCHED
    assert first.guid == "1"
    assert first.title_raw == "One"
    assert first.content_html == TRICKY_HTML
    assert first.content_text_raw == "plain"
    assert first.summary_html == "sum"
    assert (first.published_raw, first.updated_raw) == (
        "2024-03-01T00:00:00+08:00",
        "2024-03-02T00:00:00+08:00",
    )
    assert first.authors_raw == ["Ann", "https://u"]
    assert first.categories_raw == ["a", "b"]
    assert first.language_raw == "en"
    assert first.media == [
        MediaRef("https://example.com/i/1.png", "image"),
        MediaRef("https://cdn.example/b.png", "banner_image"),
        MediaRef("https://example.com/a.mp3", "attachment", "audio/mpeg", length=100),
    ]
    assert second.guid == "2"
    assert second.url == "https://ext.example/2"
    assert second.authors_raw == ["Feed Person"]
    assert second.content_html is None
    assert second.content_text_raw == "text only"
    assert second.language_raw == "zh-TW"
    assert third.url == f"{FEED_URL}#not-a-url"
    assert third.content_html == "s"


def test_json_feed_10_author_object() -> None:
    feed = parse(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1",
                "title": "old",
                "author": {"name": "Solo"},
                "items": [{"id": "x", "url": "https://a.example/x", "author": {"name": "Me"}}],
            }
        )
    )
    assert feed.entries[0].authors_raw == ["Me"]


def test_json_that_is_not_a_feed_is_refused() -> None:
    for document in ('{"hello": "world"}', "[1, 2]", '{"version": "https://jsonfeed.org/v', "{"):
        with pytest.raises(FeedParseError):
            parse(document)


# -- encodings -------------------------------------------------------------------------------


def rss_in(encoding_label: str, title: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding_label}"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><item><title>{title}</title>"
        f"<description><![CDATA[<p>{title}</p>]]></description></item></channel></rss>"
    )


@pytest.mark.parametrize(
    ("label", "codec", "title", "used"),
    [
        # 镕 is GBK, not GB2312: a feed that says gb2312 is read as GB18030.
        ("gb2312", "gbk", "朱镕基 说：“好”", "gb18030"),
        ("GBK", "gbk", "镕 堃 喆", "gb18030"),
        ("gb18030", "gb18030", "𠀀 扩展 😀", "gb18030"),
        ("big5", "big5", "繁體中文 測試", "big5"),
        ("big5", "cp950", "歐元 €", "cp950"),  # € is CP950, not Big5 proper
        ("shift_jis", "shift_jis", "日本語のフィード", "shift_jis"),
        ("windows-1252", "cp1252", "“quotes” – café", "windows-1252"),
        ("iso-8859-1", "cp1252", "“smart” café", "windows-1252"),
        ("utf-8", "utf-8", "中文 ✓", "utf-8"),
    ],
)
def test_declared_encodings(label: str, codec: str, title: str, used: str) -> None:
    feed = parse(rss_in(label, title).encode(codec))
    assert feed.encoding == used
    assert feed.errors == []
    assert feed.title == title
    assert feed.entries[0].title_raw == title
    assert feed.entries[0].content_html == f"<p>{title}</p>"


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_byte_order_marks(codec: str, bom: bytes) -> None:
    # The declaration lies; the BOM wins.
    feed = parse(bom + rss_in("iso-8859-1", "Ünïcode 中").encode(codec))
    assert feed.encoding == codec
    assert feed.entries[0].title_raw == "Ünïcode 中"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_bom(codec: str) -> None:
    feed = parse(rss_in(codec[:6], "wide 中").encode(codec))
    assert feed.encoding == codec
    assert feed.entries[0].title_raw == "wide 中"


def test_http_charset_overrides_the_declaration() -> None:
    body = rss_in("iso-8859-1", "簡體 镕").encode("gbk")
    feed = parse_feed(body, FEED_URL, content_type="application/rss+xml; charset='GB2312'")
    assert feed.encoding == "gb18030"
    assert feed.entries[0].title_raw == "簡體 镕"


def test_http_latin1_default_on_a_utf8_feed_is_ignored() -> None:
    body = rss_in("utf-8", "naïve 中文").encode("utf-8")
    feed = parse_feed(body, FEED_URL, content_type="text/xml; charset=ISO-8859-1")
    assert feed.encoding == "utf-8"
    assert feed.entries[0].title_raw == "naïve 中文"
    assert feed.errors == []  # a common server default, read correctly: nothing to report


def test_wrong_declaration_falls_back_and_is_recorded() -> None:
    feed = parse(rss_in("utf-8", "“cp1252” café").encode("cp1252"))
    assert feed.encoding == "windows-1252"
    assert feed.entries[0].title_raw == "“cp1252” café"
    assert feed.errors


def test_a_few_bad_bytes_in_utf8_are_replaced_not_misread() -> None:
    body = rss_in("utf-8", "中文标题").encode("utf-8").replace("标".encode(), b"\xff\xfe")
    feed = parse(body)
    assert feed.encoding == "utf-8"
    assert feed.entries[0].title_raw == "中文\ufffd\ufffd题"
    assert feed.errors


def test_decode_document_reports_what_it_used() -> None:
    text, encoding, errors = decode_document("<rss/>".encode("utf-16"))
    assert (text, encoding, errors) == ("<rss/>", "utf-16-le", [])
    _, encoding, errors = decode_document(b"<rss>\xc3\xa9</rss>", "text/xml; charset=bogus")
    assert (encoding, errors) == ("utf-8", [])
    text, encoding, errors = decode_document(b"<rss>\xe9</rss>", "text/xml; charset=utf-8")
    assert (text, encoding) == ("<rss>é</rss>", "windows-1252")
    assert errors


# -- broken documents ------------------------------------------------------------------------


def test_undeclared_entities_and_bare_ampersands_are_repaired() -> None:
    feed = parse(
        "<rss><channel><title>A&nbsp;B & C</title><item><title>Tom &amp; Jerry&hellip;</title>"
        "<link>http://a.example/?x=1&y=2</link>"
        "<description><![CDATA[<p>&nbsp;kept&mdash;as is</p>]]></description></item>"
        "</channel></rss>"
    )
    assert feed.title == "A\xa0B & C"
    entry = feed.entries[0]
    assert entry.title_raw == "Tom & Jerry…"
    assert entry.url == "http://a.example/?x=1&y=2"
    assert entry.content_html == "<p>&nbsp;kept&mdash;as is</p>"  # CDATA untouched
    assert feed.errors[0].startswith("not well-formed (line 1): ")


def test_repaired_document_still_gives_xhtml_exactly_as_written() -> None:
    body = "<p>a&nbsp;b &copy; <br/></p>"
    feed = parse(
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t&nbsp;</title>'
        f'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'
        "</content></entry></feed>"
    )
    assert feed.entries[0].content_html == body
    assert feed.errors


def test_junk_before_the_document_is_dropped() -> None:
    feed = parse(
        "<br />\n<b>Warning</b>:  Cannot modify header information in <b>x.php</b><br />\n"
        + rss_in("utf-8", "still here")
    )
    assert feed.entries[0].title_raw == "still here"
    assert feed.errors


def test_not_well_formed_feed_is_recovered_with_the_error_listed() -> None:
    feed = parse(
        "<?xml version='1.0'?>\n<rss version='2.0'>\n<channel>\n<title>Broken</title>\n"
        "<item><title>one</title><link>http://x.example/1</link></item>\n"
        "<item><title>two</title><link>http://x.example/2</link><b></item>\n"
        "<item><title>three</title><link>http://x.example/3</link></item>\n"
    )
    assert [e.title_raw for e in feed.entries] == ["one", "two", "three"]
    assert feed.errors[0].startswith("not well-formed (line 6): ")
    assert all(entry.parse_errors == feed.errors for entry in feed.entries)


def test_feedparser_loose_parser_rescues_what_lxml_drops_and_exact_markup_is_kept() -> None:
    # Two documents glued together: lxml stops after the first root, feedparser goes on.
    first = (
        "<rss><channel><item><title>a</title><guid>g-a</guid>"
        f"<description><![CDATA[{TRICKY_HTML}]]></description></item></channel></rss>"
    )
    second = "<rss><channel><item><title>b</title><guid>g-b</guid></item></channel></rss>"
    feed = parse(first + second)
    assert [e.title_raw for e in feed.entries] == ["a", "b"]
    assert feed.entries[0].content_html == TRICKY_HTML
    assert any("feedparser" in error for error in feed.errors)


def test_truncated_feed_keeps_the_complete_entries() -> None:
    whole = rss_in("utf-8", "t").replace("</channel></rss>", "") + "<item><title>cut"
    feed = parse(whole)
    assert feed.entries[0].title_raw == "t"
    assert feed.errors


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"   \n\t ",
        b"<!DOCTYPE html><html><head><title>Not a feed</title></head><body><p>hi<br></body></html>",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>x</loc></url></urlset>',
        b"\x00\x01\x02garbage\xff\xfe\xfd",
        b"just some text",
        b"<",
        b"<?xml version='1.0'?>",
    ],
)
def test_nothing_to_recover_raises_feed_parse_error(document: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(document, FEED_URL)


def test_external_entities_are_never_loaded() -> None:
    feed = parse(
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<rss><channel><item><title>a&xxe;b</title></item></channel></rss>"
    )
    assert "root:" not in (feed.entries[0].title_raw or "")


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_nothing_but_feed_parse_error(body: bytes) -> None:
    with contextlib.suppress(FeedParseError):
        parse_feed(body, FEED_URL)
    assert sniff_feed_kind(body) in (None, "rss", "rdf", "atom", "json")


FEED_PIECES = st.sampled_from(
    [
        "<rss>",
        "<channel>",
        "<item>",
        "</item>",
        "<title>",
        "</title>",
        "<![CDATA[",
        "]]>",
        "&nbsp;",
        "&",
        "<feed xmlns='http://www.w3.org/2005/Atom'>",
        "<entry>",
        "<content type='xhtml'>",
        "<div xmlns='http://www.w3.org/1999/xhtml'>",
        "</div>",
        "xml:base='../x/'",
        "<link href='",
        "'/>",
        "<!--",
        "-->",
        "\x00",
        "中文",
        '{"version": "https://jsonfeed.org/version/1.1", "items": [',
        "]}",
        "<?xml version='1.0' encoding='gb2312'?>",
    ]
)


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.one_of(FEED_PIECES, st.text(max_size=5)), max_size=40))
def test_feedlike_junk_raises_nothing_but_feed_parse_error(pieces: list[str]) -> None:
    try:
        feed = parse_feed("".join(pieces).encode("utf-8", "surrogatepass"), FEED_URL)
    except FeedParseError:
        return
    for entry in feed.entries:
        assert entry.url
        assert entry.source_url == FEED_URL


# -- sniffing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "content_type", "kind"),
    [
        (RSS2.encode(), None, "rss"),
        (RSS1.encode(), None, "rdf"),
        (ATOM.encode(), None, "atom"),
        (json.dumps(JSON_FEED_11).encode(), None, "json"),
        (b'{"items": []}', "application/feed+json", "json"),
        (b'{"hello": 1}', "application/json", "json"),
        (b'{"hello": 1}', None, None),
        ("<!-- c --><?xml-stylesheet x?><rss/>".encode("utf-16"), None, "rss"),
        (b"<html><body/></html>", "text/html", None),
        (b"<CHANNEL HREF='x'/>", None, "rss"),
        (b"", None, None),
    ],
)
def test_sniff_feed_kind(document: bytes, content_type: str | None, kind: str | None) -> None:
    assert sniff_feed_kind(document, content_type) == kind


# -- speed -----------------------------------------------------------------------------------


def _big_feed(size: int) -> tuple[bytes, int]:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>big</title>'
    ]
    written = number = 0
    while written < size:
        number += 1
        item = (
            f"<item><title>Item {number}</title><link>/p/{number}</link><guid>{number}</guid>"
            f"<content:encoded><![CDATA[{TRICKY_HTML * 20}]]></content:encoded>"
            f'<enclosure url="/e/{number}.jpg" type="image/jpeg"/></item>'
        )
        parts.append(item)
        written += len(item)
    parts.append("</channel></rss>")
    return "".join(parts).encode(), number


def test_a_five_megabyte_feed_parses_in_linear_time() -> None:
    """Five times the feed costs about five times the time, never the square of it: a ratio
    of two parses in the same run (best of three each), not a wall-clock bound, so a busy
    machine cannot fail it."""

    def best_of_three(body: bytes, entries: int) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            feed = parse_feed(body, FEED_URL)
            times.append(time.perf_counter() - started)
            assert len(feed.entries) == entries
        return min(times)

    small = best_of_three(*_big_feed(1_000_000))
    large = best_of_three(*_big_feed(5_000_000))
    assert large < 12 * small, (small, large)  # linear: ~5; quadratic: ~25


def test_an_xml_base_never_takes_a_web_feeds_links_off_the_web() -> None:
    feed = parse(
        '<rss version="2.0" xmlns:xml="http://www.w3.org/XML/1998/namespace"><channel>'
        '<item xml:base="file:///etc/"><link>passwd</link><title>t</title>'
        '<description>&lt;img src="shadow"&gt;</description></item></channel></rss>'
    )
    (entry,) = feed.entries
    assert entry.url == "https://example.com/feeds/passwd"  # against the feed's own URL
    assert entry.base_url in (None, FEED_URL)

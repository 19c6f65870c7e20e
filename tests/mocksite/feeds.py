"""Every feed of the mock site, built from :mod:`tests.mocksite.corpus` by the writers.

Each public function takes the site's base URL and returns the exact bytes served.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from tests.mocksite.corpus import (
    ARTICLES,
    ARTICLES_BY_SLUG,
    Article,
    article_body,
    article_page,
    article_url,
    article_xhtml,
    fidelity_bodies,
    image_size,
)
from tests.mocksite.images import static_images
from tests.mocksite.model import Entry, Feed, Media, Person
from tests.mocksite.writers import atom03, atom10, dump_json, json_feed, rss09x, rss1, rss2

SITE_TITLE = "Mock Site 模拟站点"

# The dates of the main feeds, in the forms real feeds use (the first four are the same
# instants as the articles' ``published``, where the form allows it).
RFC822_DATES = (
    "Fri, 02 Apr 2021 06:27:15 GMT",
    "Sat, 03 Apr 2021 14:05:00 +0800",
    # CST: China Standard Time to the publisher, US Central to most parsers (RFC 822 names
    # only US zones); the archiver needs a per-source time zone to get this right.
    "Sun, 04 Apr 2021 09:30:00 CST",
    "Invalid Date",  # what RSSHub writes when a route fails to find a date
    "2016-10-26 16:53:42",  # naive, local time of the publisher (Asia/Shanghai)
)


def _author(article: Article, base: str) -> Person:
    person = article.author
    return replace(person, uri=person.uri.replace("{base}", base)) if person.uri else person


def _image_media(base: str, path: str) -> Media:
    width, height = image_size(path)
    image = static_images().get(path)
    return Media(
        f"{base}{path}",
        image.media_type if image else None,
        length=len(image.data) if image else None,
        width=width,
        height=height,
    )


def article_entry(article: Article, base: str, **overrides: Any) -> Entry:
    """An entry with everything the article has; overrides set the format's quirks."""
    entry = Entry(
        title=article.title,
        link=article_url(article, base),
        guid=article_url(article, base),
        authors=[_author(article, base)],
        categories=list(article.categories),
        summary=article.summary,
        content=article_body(article, base),
        language=article.language,
    )
    return replace(entry, **overrides)


def channel(base: str, path: str, **overrides: Any) -> Feed:
    feed = Feed(
        title=SITE_TITLE,
        link=f"{base}/",
        description="模拟站点的订阅源，用于测试。A mock site for the archiver's tests.",
        self_url=f"{base}{path}",
        language="zh-cn",
        updated="Tue, 11 May 2021 12:00:00 GMT",
        image=f"{base}/images/photo.png",
        generator="mocksite",
    )
    return replace(feed, **overrides)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


# -- one feed per format, with full content -------------------------------------------------


def rss2_feed(base: str) -> bytes:
    keras, wal, rss, bay, tz = ARTICLES[:5]
    entries = [
        article_entry(
            keras,
            base,
            link=article_url(keras, base) + "?utm_source=rss&utm_medium=feed",
            published=RFC822_DATES[0],
            enclosures=[_image_media(base, keras.images[2])],
            media_contents=[_image_media(base, keras.images[0])],
            thumbnail=_image_media(base, keras.images[0]),
            authors=[Person("机器之心")],
            comments=f"{base}/articles/keras.html#comments",
        ),
        article_entry(
            wal, base, guid="1188231", guid_is_permalink=False, published=RFC822_DATES[1]
        ),
        article_entry(
            rss,
            base,
            guid="tag:mocksite.test,2021:rss-returns",
            guid_is_permalink=False,
            published=RFC822_DATES[2],
            thumbnail=_image_media(base, "/images/photo.webp"),
        ),
        article_entry(
            bay,
            base,
            guid_is_permalink=True,
            published=RFC822_DATES[3],
            updated="2021-04-05T08:00:00+08:00",
            enclosures=[Media(f"{base}/media/episode-1.mp3", "audio/mpeg", length=1024)],
            authors=[Person("韩梅梅"), Person("李雷")],
        ),
        article_entry(tz, base, published=RFC822_DATES[4], categories=["Python,编程"]),
    ]
    return _utf8(rss2(channel(base, "/feeds/rss2.xml", entries=entries, ttl=60)))


def rss1_feed(base: str) -> bytes:
    dates = (
        "2021-04-02T14:27:15+08:00",
        "2021-04-03T06:05:00Z",
        "2021-04-03T21:30:00-04:00",
        "2021-04-05",
    )
    entries = [
        article_entry(article, base, published=date)
        for article, date in zip(ARTICLES, dates, strict=False)
    ]
    feed = channel(base, "/feeds/rss1.rdf", entries=entries, updated="2021-05-11T20:00:00+08:00")
    return _utf8(rss1(feed))


def rss091_feed(base: str) -> bytes:
    entries = [article_entry(article, base, guid=None, summary=None) for article in ARTICLES[:3]]
    return _utf8(rss09x(channel(base, "/feeds/rss091.xml", entries=entries), version="0.91"))


def rss092_feed(base: str) -> bytes:
    entries = [
        article_entry(
            article,
            base,
            guid=None,
            enclosures=[_image_media(base, article.images[0])] if article.images else [],
        )
        for article in ARTICLES[:4]
    ]
    return _utf8(rss09x(channel(base, "/feeds/rss092.xml", entries=entries), version="0.92"))


def atom10_feed(base: str) -> bytes:
    keras, wal, rss, bay, _, pboc = ARTICLES
    entries = [
        article_entry(
            keras,
            base,
            guid="tag:mocksite.test,2021-04-02:/articles/keras",
            published="2021-04-02T14:27:15+08:00",
            updated="2021-04-02T14:27:15+08:00",
            enclosures=[_image_media(base, "/images/photo.jpg")],
            thumbnail=_image_media(base, keras.images[0]),
        ),
        article_entry(
            wal,
            base,
            guid="urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
            published="2021-04-03T06:05:00Z",
            updated="2021-04-03T07:00:00Z",
            content=article_xhtml(wal, base),
            xhtml=True,
        ),
        article_entry(
            rss, base, published="2021-04-03T21:30:00.123-04:00", updated="2021-04-04T01:30:00.123Z"
        ),
        article_entry(
            bay,
            base,
            published=None,
            updated="2021-04-05T08:00:00+08:00",
            content=article_xhtml(bay, base),
            xhtml=True,
            summary=None,
        ),
        article_entry(
            pboc, base, published="2021-05-11T20:00:00+0800", updated="2021-05-11T12:00:00Z"
        ),
    ]
    feed = channel(
        base,
        "/feeds/atom10.xml",
        entries=entries,
        updated="2021-05-11T12:00:00Z",
        authors=[Person("Mock Site", "editor@mocksite.test", f"{base}/")],
    )
    return _utf8(atom10(feed))


def atom03_feed(base: str) -> bytes:
    keras, wal, rss = ARTICLES[:3]
    entries = [
        article_entry(
            keras, base, published="2021-04-02T14:27:15+08:00", updated="2021-04-02T06:27:15Z"
        ),
        article_entry(
            wal,
            base,
            published="2021-04-03T06:05:00Z",
            content=article_xhtml(wal, base),
            xhtml=True,
        ),
        article_entry(rss, base, published="2021-04-04T01:30:00Z", updated="2021-04-04T01:30:00Z"),
    ]
    return _utf8(
        atom03(channel(base, "/feeds/atom03.xml", entries=entries, updated="2021-04-04T01:30:00Z"))
    )


def _json_entries(base: str) -> list[Entry]:
    keras, wal, rss, bay, tz, _ = ARTICLES
    return [
        article_entry(
            keras,
            base,
            guid="keras",
            published="2021-04-02T14:27:15+08:00",
            updated="2021-04-02T15:00:00+08:00",
            image=f"{base}{keras.images[0]}",
            banner_image=f"{base}/images/photo.jpg",
        ),
        article_entry(
            wal,
            base,
            guid="1188231",
            published="2021-04-03T06:05:00Z",
            image=f"{base}/images/photo.png",
        ),
        article_entry(
            rss,
            base,
            guid=article_url(rss, base),
            published="2021-04-04T09:30:00+08:00",
            content_text="Feeds never went away; they went quiet.\n\nFetch often, keep everything.",
            enclosures=[_image_media(base, "/images/photo.webp")],
        ),
        article_entry(bay, base, guid="shenzhen-bay", published="2021-04-05T08:00:00+08:00"),
        article_entry(tz, base, guid="python-timezones", published="2016-10-26T16:53:42+08:00"),
    ]


def jsonfeed1_feed(base: str) -> bytes:
    feed = channel(
        base,
        "/feeds/jsonfeed1.json",
        entries=_json_entries(base)[:4],
        authors=[Person("Mock Site")],
    )
    document = json_feed(feed, version="1.0")
    # JSON Feed 1.0: "If an id is presented as a number [...] a reader must coerce it to a string."
    document["items"][1]["id"] = 1188231
    return _utf8(dump_json(document))


def jsonfeed11_feed(base: str) -> bytes:
    entries = _json_entries(base)
    entries[0] = replace(entries[0], authors=[Person("机器之心"), Person("36氪", uri=f"{base}/")])
    feed = channel(base, "/feeds/jsonfeed11.json", entries=entries, authors=[Person("Mock Site")])
    return _utf8(dump_json(json_feed(feed, version="1.1")))


# -- summaries, relative links, RSSHub ------------------------------------------------------


def summary_only_feed(base: str) -> bytes:
    entries = [
        article_entry(
            article,
            base,
            content=None,
            published=article.published.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        for article in ARTICLES
    ]
    return _utf8(rss2(channel(base, "/feeds/summary-only.xml", entries=entries)))


def relative_links_feed(base: str) -> bytes:
    keras, wal, rss = ARTICLES[:3]
    host = base.removeprefix("http:")
    keras_body = (
        '<p>相对地址的图片：</p>\n<p><img src="../images/photo.png" alt="parent-relative"></p>\n'
        '<p><img src="/images/gen/6.png" alt="root-relative"></p>\n'
        f'<p><img src="{host}/images/gen/7.png" alt="protocol-relative"></p>\n'
        '<p><a href="../articles/sqlite-wal.html">下一篇</a></p>'
    )
    entries = [
        article_entry(
            keras,
            base,
            link="../articles/keras.html",
            guid="relative-keras",
            guid_is_permalink=False,
            content=keras_body,
            enclosures=[Media("../images/photo.jpg", "image/jpeg")],
            published=RFC822_DATES[0],
        ),
        article_entry(
            wal, base, link="/articles/sqlite-wal.html", guid="sqlite-wal", guid_is_permalink=False
        ),
        article_entry(
            rss, base, link="./../articles/rss-returns.html", guid="../articles/rss-returns.html"
        ),
    ]
    feed = channel(
        base, "/feeds/relative-links.xml", link="/", entries=entries, image="../images/photo.png"
    )
    return _utf8(rss2(feed))


def xml_base_feed(base: str) -> bytes:
    keras, wal, rss = ARTICLES[:3]
    entries = [
        article_entry(
            keras,
            base,
            link="keras.html",
            guid="tag:mocksite.test,2021:xml-base/keras",
            content='<p>xml:base 相对地址</p><p><img src="../images/photo.png"></p>',
            published="2021-04-02T06:27:15Z",
            updated="2021-04-02T06:27:15Z",
        ),
        article_entry(
            wal,
            base,
            link="sqlite-wal.html",
            guid="tag:mocksite.test,2021:xml-base/sqlite-wal",
            xml_base="../articles/",
            content_xml_base=f"{base}/images/gen/",
            content='<p>content 元素上的 xml:base</p><p><img src="8.png"></p>',
            updated="2021-04-03T06:05:00Z",
        ),
        article_entry(
            rss,
            base,
            link="../rss-returns.html",
            guid="tag:mocksite.test,2021:xml-base/rss-returns",
            xml_base="/articles/2021/",
            content=(
                "<p>An entry-level xml:base that is itself root-relative.</p>"
                '<p><img src="/images/gen/9.png"></p>'
            ),
            updated="2021-04-04T01:30:00Z",
        ),
    ]
    feed = channel(
        base,
        "/feeds/xml-base.atom",
        xml_base=f"{base}/articles/",
        link="../",
        entries=entries,
        updated="2021-04-04T01:30:00Z",
    )
    return _utf8(atom10(feed))


def rsshub_feed(base: str) -> bytes:
    """RSSHub's shape: full HTML in a CDATA ``<description>``, bare ``<author>``, ``ttl``."""
    entries = [
        article_entry(
            article,
            base,
            summary=article_body(article, base),
            content=None,
            authors=[Person("36kr")],
            categories=[],
            published=date,
        )
        for article, date in zip(
            ARTICLES[:4],
            (
                "Fri, 02 Apr 2021 06:27:15 GMT",
                "Sat, 03 Apr 2021 06:05:00 GMT",
                "Invalid Date",
                "Mon, 05 Apr 2021 00:00:00 GMT",
            ),
            strict=True,
        )
    ]
    feed = channel(
        base,
        "/rsshub/36kr/news/latest",
        title="36氪 - 最新资讯",
        description="36氪 - 最新资讯 - Made with love by RSSHub(https://github.com/DIYgod/RSSHub)",
        generator="RSSHub",
        ttl=5,
        entries=entries,
        description_cdata=True,
        plain_authors=True,
    )
    return _utf8(rss2(feed))


# -- encodings --------------------------------------------------------------------------------

GBK_ONLY_TITLE = "王堃、张喆和李玥：镕铸新时代（們）"
"""Characters outside GB2312 (堃 喆 玥 镕 們): a strict GB2312 decoder fails on them."""

BIG5_TITLE = "臺北的早晨：繁體中文訂閱源"
BIG5_BODY = (
    "<p>臺灣與香港的網站常用 Big5 編碼。</p>\n"
    "<p>這篇文章的標題、作者和分類都是繁體中文，用來測試編碼的處理。</p>\n"
    '<p><img src="{base}/images/gen/10.png" alt="圖片"></p>'
)


def _encoding_feed(
    base: str, path: str, encoding: str, *, declared: str | None, bom: bool = False
) -> bytes:
    keras, wal = ARTICLES[:2]
    if encoding == "big5":
        entries = [
            Entry(
                title=BIG5_TITLE,
                link=f"{base}/articles/rss-returns.html",
                guid="big5-taipei",
                guid_is_permalink=False,
                authors=[Person("陳小明")],
                categories=["繁體", "臺灣"],
                published="Sun, 04 Apr 2021 09:30:00 +0800",
                summary="繁體中文的訂閱源。",
                content=BIG5_BODY.replace("{base}", base),
            )
        ]
        title = "繁體中文測試站"
        description = "繁體中文的模擬站點，用於測試。"
    else:
        entries = [
            article_entry(keras, base, published=RFC822_DATES[0], guid=f"{path}#keras"),
            article_entry(wal, base, published=RFC822_DATES[1], guid=f"{path}#sqlite-wal"),
        ]
        if encoding == "gbk":
            entries.insert(
                0,
                Entry(
                    title=GBK_ONLY_TITLE,
                    link=f"{base}/articles/pboc-report.html",
                    guid=f"{path}#gbk-only",
                    guid_is_permalink=False,
                    authors=[Person("朱镕基")],
                    categories=["编码"],
                    published="Mon, 05 Apr 2021 10:00:00 +0800",
                    summary="GBK 独有的字符：堃、喆、玥、镕、們。",
                    content=f"<p>{GBK_ONLY_TITLE}</p>\n<p>这些字不在 GB2312 里，只在 GBK 里。</p>",
                ),
            )
        title = f"编码测试：{declared or encoding}"
        description = "编码测试用的订阅源。"
    feed = channel(base, path, title=title, description=description, entries=entries)
    data = rss2(feed, encoding=declared).encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def gbk_feed(base: str) -> bytes:
    return _encoding_feed(base, "/encoding/gbk.xml", "gbk", declared="gbk")


def gb2312_declared_feed(base: str) -> bytes:
    return _encoding_feed(base, "/encoding/gb2312-with-gbk-chars.xml", "gbk", declared="gb2312")


def big5_feed(base: str) -> bytes:
    return _encoding_feed(base, "/encoding/big5.xml", "big5", declared="big5")


def utf8_bom_feed(base: str) -> bytes:
    return _encoding_feed(base, "/encoding/utf8-bom.xml", "utf-8", declared="utf-8", bom=True)


def charset_in_header_feed(base: str) -> bytes:
    """GBK bytes under ``<?xml version="1.0"?>``: only the HTTP header names the charset."""
    return _encoding_feed(base, "/encoding/charset-in-header-only.xml", "gbk", declared=None)


# -- bodies that must survive byte for byte ---------------------------------------------------


def _fidelity_entries(base: str) -> list[Entry]:
    return [
        Entry(
            title=title,
            link=f"{base}/articles/keras.html#{guid}",
            guid=guid,
            guid_is_permalink=False,
            authors=[Person("Fidelity")],
            categories=["fidelity"],
            published="2021-04-06T12:00:00+08:00",
            updated="2021-04-06T12:00:00+08:00",
            summary="Every byte of the content must be kept.",
            content=body,
        )
        for guid, (title, body) in fidelity_bodies(base).items()
    ]


def fidelity_rss(base: str) -> bytes:
    entries = [
        replace(entry, published="Tue, 06 Apr 2021 04:00:00 GMT", updated=None)
        for entry in _fidelity_entries(base)
    ]
    return _utf8(rss2(channel(base, "/fidelity/rss.xml", entries=entries)))


def fidelity_atom(base: str) -> bytes:
    return _utf8(
        atom10(
            channel(
                base,
                "/fidelity/atom.xml",
                entries=_fidelity_entries(base),
                updated="2021-04-06T04:00:00Z",
            )
        )
    )


def fidelity_json(base: str) -> bytes:
    return _utf8(
        dump_json(json_feed(channel(base, "/fidelity/feed.json", entries=_fidelity_entries(base))))
    )


def fidelity_expected(base: str) -> bytes:
    return _utf8(dump_json({guid: body for guid, (_, body) in fidelity_bodies(base).items()}))


# -- broken and misbehaving -----------------------------------------------------------------


def not_well_formed_feed(base: str) -> bytes:
    """Two good items, an unescaped ``&``, a mismatched tag, then one more good item."""
    good = rss2(
        channel(
            base,
            "/broken/not-well-formed.xml",
            entries=[
                article_entry(ARTICLES[0], base, published=RFC822_DATES[0]),
                article_entry(ARTICLES[1], base, published=RFC822_DATES[1]),
            ],
        )
    )
    bad = (
        "<item><title>AT&T 与 T-Mobile：Q&A</title>"
        f"<link>{base}/articles/rss-returns.html</link>"
        '<guid isPermaLink="false">bad-ampersand</guid>'
        "<description>Fish & chips 炸鱼薯条</description></item>\n"
        f"<item><title>标签不匹配</title><link>{base}/articles/shenzhen-bay.html</link>"
        '<guid isPermaLink="false">bad-mismatched-tag</guid>'
        "<description><b>粗体</i></description></item>\n"
        f"<item><title>After the damage</title><link>{base}/articles/pboc-report.html</link>"
        '<guid isPermaLink="false">after-damage</guid>'
        "<description>A good item after two bad ones.</description></item>\n"
    )
    return _utf8(good.replace("</channel>", bad + "</channel>"))


def html_as_feed(base: str) -> bytes:
    return _utf8(article_page(ARTICLES_BY_SLUG["keras"], base))


def no_guids_feed(base: str) -> bytes:
    entries = [
        article_entry(article, base, guid=None, published=RFC822_DATES[0])
        for article in ARTICLES[:3]
    ]
    return _utf8(rss2(channel(base, "/broken/no-guids.xml", entries=entries)))


def no_links_feed(base: str) -> bytes:
    entries = [
        article_entry(
            article,
            base,
            link=None,
            guid=f"no-link-{article.slug}",
            guid_is_permalink=False,
            published=RFC822_DATES[0],
        )
        for article in ARTICLES[:3]
    ]
    return _utf8(rss2(channel(base, "/broken/no-links.xml", entries=entries)))


def bare_items_feed(base: str) -> bytes:
    """Items with a title and a description only: no guid, no link, no date."""
    entries = [
        Entry(title=article.title, summary=article.summary, content=article_body(article, base))
        for article in ARTICLES[:3]
    ]
    return _utf8(rss2(channel(base, "/broken/bare-items.xml", entries=entries)))


def duplicate_guids_feed(base: str) -> bytes:
    keras, wal = ARTICLES[:2]
    entries = [
        article_entry(
            keras, base, guid="duplicate", guid_is_permalink=False, published=RFC822_DATES[0]
        ),
        article_entry(
            wal, base, guid="duplicate", guid_is_permalink=False, published=RFC822_DATES[1]
        ),
    ]
    return _utf8(rss2(channel(base, "/broken/duplicate-guids.xml", entries=entries)))


def bad_json_feed(base: str) -> bytes:
    text = jsonfeed11_feed(base).decode("utf-8")
    return _utf8(text[: len(text) // 2])


# -- the feed that changes between crawls ---------------------------------------------------


def changing_entries(base: str, version: int) -> list[Entry]:
    """Version 1: A, B, C. Each later version edits A again; 2 adds D; 3 and later drop B."""
    keras, wal, rss, bay = ARTICLES[:4]
    edited = "".join(
        f"\n<p>第 {n} 次修订：更正了一处笔误。Revision {n}.</p>" for n in range(2, version + 1)
    )
    entry_a = article_entry(
        keras,
        base,
        guid="changing-a",
        guid_is_permalink=False,
        title=keras.title if version == 1 else f"{keras.title}（更新 {version}）",
        content=article_body(keras, base) + edited,
        published="2021-04-02T06:27:15Z",
        updated=f"2021-04-{1 + version:02d}T12:00:00Z",
    )
    entries = [entry_a]
    if version >= 2:
        entries.insert(
            0,
            article_entry(
                bay,
                base,
                guid="changing-d",
                guid_is_permalink=False,
                published="2021-04-05T00:00:00Z",
                updated="2021-04-05T00:00:00Z",
            ),
        )
    if version < 3:
        entries.append(
            article_entry(
                wal,
                base,
                guid="changing-b",
                guid_is_permalink=False,
                published="2021-04-03T06:05:00Z",
                updated="2021-04-03T06:05:00Z",
            )
        )
    entries.append(
        article_entry(
            rss,
            base,
            guid="changing-c",
            guid_is_permalink=False,
            published="2021-04-01T00:00:00Z",
            updated="2021-04-01T00:00:00Z",
        )
    )
    return entries


def changing_rss(base: str, version: int) -> bytes:
    entries = []
    for entry in changing_entries(base, version):
        published = (
            datetime.fromisoformat(entry.published.replace("Z", "+00:00"))
            if entry.published
            else None
        )
        entries.append(
            replace(
                entry,
                published=format_datetime(published, usegmt=True) if published else None,
                updated=None,
            )
        )
    return _utf8(
        rss2(channel(base, "/changing/rss.xml", entries=entries, description=f"version {version}"))
    )


def changing_atom(base: str, version: int) -> bytes:
    feed = channel(
        base,
        "/changing/atom.xml",
        entries=changing_entries(base, version),
        updated=f"2021-04-{1 + version:02d}T12:00:00Z",
    )
    return _utf8(atom10(feed))


# -- lists of feeds -------------------------------------------------------------------------


def opml(title: str, feeds: list[tuple[str, str, str]]) -> bytes:
    """OPML 2.0 listing ``(title, xml_url, kind)`` outlines."""
    outlines = "\n".join(
        f'    <outline type="rss" text={quoteattr(text)} title={quoteattr(text)} '
        f"xmlUrl={quoteattr(url)} category={quoteattr(kind)}/>"
        for text, url, kind in feeds
    )
    return _utf8(
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n'
        f"  <head><title>{title}</title></head>\n  <body>\n{outlines}\n  </body>\n</opml>\n"
    )


def json_bytes(document: object) -> bytes:
    return _utf8(json.dumps(document, ensure_ascii=False, indent=2) + "\n")

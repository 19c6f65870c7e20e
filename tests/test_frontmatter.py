"""The front-matter pipeline on items as spiders yield them (no network)."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.utils.test import get_crawler

from archiver.items import ArticleItem, MediaRef
from pipelines.frontmatter import FrontMatterPipeline


def normalized(**fields: object) -> tuple[ArticleItem, dict[str, object]]:
    crawler = get_crawler(settings_dict={"ARCHIVER_TRACKING_PARAMS": ["ref"]})
    crawler.stats.open_spider()  # type: ignore[union-attr]
    item = ArticleItem(
        url="https://36kr.com/p/1188230?utm_source=rss&ref=feed&id=7#comments",
        source_url="https://rsshub.app/36kr/news/latest",
        fetched_at=datetime(2021, 4, 2, 8, 0, tzinfo=UTC),
        **fields,  # type: ignore[arg-type]
    )
    FrontMatterPipeline.from_crawler(crawler).process_item(item)
    return item, crawler.stats.get_stats()  # type: ignore[union-attr]


def test_a_36kr_entry() -> None:
    item, stats = normalized(
        guid="https://36kr.com/p/1188230",
        title_raw="  Keras，亡于谷歌？ - 36氪 ",
        feed_title="36氪",
        authors_raw=["作者：机器之心"],
        published_raw="Fri, 02 Apr 2021 14:27:15 CST",
        language_raw="zh-cn",
        categories_raw=["AI", "资讯", "AI"],
        source_categories=["新媒体", "36kr", "资讯"],
        content_html='<p>本文来自微信公众号<a href="https://mp.weixin.qq.com/s/x">“机器之心”（ID:almosthuman2014）</a></p>'
        '<p><img src="https://img.36krcdn.com/a_img_000"></p>',
    )
    assert item.title == "Keras，亡于谷歌？"
    assert item.title_raw == "  Keras，亡于谷歌？ - 36氪 "  # raw kept as published
    assert item.authors == ["机器之心"]
    assert item.published == datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)  # CST of China
    assert item.categories == ["新媒体", "36kr", "资讯", "AI"]
    assert item.tags == ["AI", "资讯"]
    assert item.url == "https://36kr.com/p/1188230?id=7"
    assert item.canonical_url == item.url
    assert item.headimg == "https://img.36krcdn.com/a_img_000"
    assert item.origin == "机器之心"
    assert item.key == "https://36kr.com/p/1188230"
    assert item.content_hash
    assert item.date_flags == ["ambiguous-zone"]  # CST, read as China's from the language
    assert "archiver/dates/unparseable" not in stats


def test_unreadable_and_naive_dates() -> None:
    item, stats = normalized(published_raw="Invalid Date", title_raw="x")
    assert item.published is None
    assert item.published_raw == "Invalid Date"
    assert item.date_flags == ["unparseable"]
    assert stats["archiver/dates/unparseable"] == 1
    item, _ = normalized(published_raw="2016-10-26 16:53:42", source_timezone="Asia/Shanghai")
    assert item.published == datetime(2016, 10, 26, 8, 53, 42, tzinfo=UTC)
    assert item.timezone_rule == "source"
    item, _ = normalized(published_raw="2016-10-26 16:53:42")
    assert item.timezone_rule == "utc"


def test_atom_updated_stands_in_for_a_missing_published() -> None:
    item, _ = normalized(updated_raw="2021-04-02T14:27:15+08:00")
    assert item.published == item.updated == datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)


def test_no_guid_falls_back_to_the_canonical_url_then_a_hash() -> None:
    item, _ = normalized(title_raw="A")
    assert item.key == "https://36kr.com/p/1188230?id=7"
    media = [MediaRef(url="https://img.example.com/cover.jpg", role="media:content")]
    item, _ = normalized(title_raw="A", media=media)
    assert item.headimg == "https://img.example.com/cover.jpg"


def test_a_web_documents_file_image_is_no_head_image() -> None:
    from archiver.items import MediaRef

    body = '<img src="file:///etc/cover.png"><img src="https://36kr.com/a.png">'
    thumbnail = MediaRef("file:///etc/thumb.png", "media:thumbnail")
    item, _ = normalized(content_html=body, media=[thumbnail])
    assert (item.headimg, item.thumbnail) == ("https://36kr.com/a.png", "https://36kr.com/a.png")

"""The "big site": many generated feeds of many articles, the same bytes on every run.

Benchmarks call these functions directly (for example 1000 feeds of 10 articles written to
disk, or served by ``python -m tests.mocksite --big-feeds 1000 --big-per-feed 10``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

from tests.mocksite.model import Entry, Feed, Person
from tests.mocksite.writers import atom10, dump_json, json_feed, rss2

BIG_FEEDS = 20
BIG_PER_FEED = 50
FORMATS = ("xml", "atom", "json")
CONTENT_TYPES = {
    "xml": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
GENERATED_IMAGES = 64
"""Bodies use ``/images/gen/{0..63}.{png,jpg,webp}``: shared images, so a crawl dedupes them."""

_OFFSETS = (8 * 60, 0, -5 * 60, 5 * 60 + 30, 9 * 60, -8 * 60)
_EPOCH = datetime(2021, 6, 1, tzinfo=UTC)
_TOPICS = (
    "人工智能",
    "数据库",
    "开源",
    "城市",
    "财经",
    "摄影",
    "Python",
    "Web",
    "硬件",
    "教育",
    "健康",
    "旅行",
)
_SUBJECTS = (
    "新一代模型",
    "一个老问题",
    "这家初创公司",
    "社区维护者",
    "监管部门",
    "研究人员",
    "The team",
    "A new study",
)
_VERBS = ("发布了", "重新审视了", "开源了", "解释了", "押注", "回应了", "measures", "rethinks")
_OBJECTS = (
    "全文检索",
    "时区处理",
    "图片存储",
    "增量抓取",
    "订阅源格式",
    "缓存策略",
    "the archive",
    "feed readers",
)
_AUTHORS = ("李雷", "韩梅梅", "Jane Doe", "张伟", "王芳", "John Smith", "机器之心", "36氪")
_SENTENCES = (
    "这是一段用于基准测试的正文，内容由确定性的随机数生成器组合而成。",
    "The archiver must store every article exactly once, however many times the feed repeats it.",
    "全文检索需要能找到中文子串，所以 SQLite 上用 trigram 分词器。",
    "Dates come with offsets such as +08:00, Z and -05:00; all of them are stored in UTC.",
    "图片按内容的 sha256 只存一份，同一张图出现在两篇文章里也只下载一次。",
    "Feeds forget: items scroll away, and images on publishers' CDNs vanish.",
    "每一篇文章都有唯一的 guid、链接、标题、日期、分类和完整的正文。",
    "Nothing here touches the internet; every URL points back to 127.0.0.1.",
    "增量抓取依靠 ETag 和 Last-Modified，服务器没有变化时回答 304。",
    "Benchmarks measure throughput, memory and query time against this local site.",
)


@dataclass(frozen=True)
class BigArticle:
    """One generated article, with the values a benchmark or a test can check."""

    feed: int
    number: int
    guid: str
    url: str
    title: str
    author: str
    published: datetime
    """Aware, in the feed's own offset."""
    published_raw: str
    categories: tuple[str, ...]
    content: str


def big_feed_format(index: int) -> str:
    """``xml`` (RSS 2.0), ``atom`` or ``json`` (JSON Feed 1.1), in turn."""
    return FORMATS[index % len(FORMATS)]


def big_feed_path(index: int) -> str:
    return f"/big/feed-{index:02d}.{big_feed_format(index)}"


def big_feed_paths(feeds: int = BIG_FEEDS) -> list[str]:
    return [big_feed_path(index) for index in range(feeds)]


def big_article_path(feed: int, number: int) -> str:
    return f"/big/articles/{feed:02d}/{number:03d}.html"


def big_article(index: int, number: int, *, base: str) -> BigArticle:
    """Article ``number`` of feed ``index`` (0 is the newest); its own seed, so any one is cheap."""
    kind = big_feed_format(index)
    offset = timezone(timedelta(minutes=_OFFSETS[index % len(_OFFSETS)]))
    rng = random.Random(f"mocksite-big-{index}-{number}")
    url = f"{base}{big_article_path(index, number)}"
    if kind == "xml":
        guid = url
    elif kind == "atom":
        guid = f"tag:mocksite.test,2021:big/{index}/{number}"
    else:
        guid = f"big-{index}-{number}"
    # Articles are 11 hours apart, so a feed is newest first whatever the random minutes.
    published = (
        _EPOCH - timedelta(hours=index * 3 + number * 11, minutes=rng.randrange(60))
    ).astimezone(offset)
    published_raw = format_datetime(published) if kind == "xml" else published.isoformat()
    title = (
        f"{rng.choice(_TOPICS)}：{rng.choice(_SUBJECTS)}{rng.choice(_VERBS)}{rng.choice(_OBJECTS)}"
        f"（{index:02d}-{number:03d}）"
    )
    paragraphs = []
    for _ in range(rng.randint(3, 5)):
        sentences = " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(2, 4)))
        paragraphs.append(f"<p>{escape(sentences, quote=False)}</p>")
    for _ in range(rng.randint(1, 2)):
        seed, extension = rng.randrange(GENERATED_IMAGES), rng.choice(("png", "jpg", "webp"))
        image = f"{base}/images/gen/{seed}.{extension}"
        paragraphs.insert(rng.randint(1, len(paragraphs)), f'<p><img src="{image}" alt=""></p>')
    return BigArticle(
        feed=index,
        number=number,
        guid=guid,
        url=url,
        title=title,
        author=rng.choice(_AUTHORS),
        published=published,
        published_raw=published_raw,
        categories=tuple(sorted(rng.sample(_TOPICS, rng.randint(1, 3)))),
        content="\n".join(paragraphs),
    )


def big_articles(index: int, *, base: str, per_feed: int = BIG_PER_FEED) -> list[BigArticle]:
    """The articles of feed ``index``, newest first."""
    return [big_article(index, number, base=base) for number in range(per_feed)]


def big_feed(index: int, *, base: str, per_feed: int = BIG_PER_FEED) -> tuple[str, bytes]:
    """``(content type, body)`` of feed ``index`` as served at :func:`big_feed_path`."""
    kind = big_feed_format(index)
    articles = big_articles(index, base=base, per_feed=per_feed)
    entries = [
        Entry(
            title=article.title,
            link=article.url,
            guid=article.guid,
            authors=[Person(article.author)],
            categories=list(article.categories),
            published=article.published_raw,
            updated=article.published_raw if kind != "xml" else None,
            summary=article.content.split("\n", 1)[0],
            content=article.content,
        )
        for article in articles
    ]
    newest = articles[0].published if articles else _EPOCH
    feed = Feed(
        title=f"Big site feed {index:02d} 大站点订阅源",
        link=f"{base}/big/",
        description=f"Generated feed {index} of the mock site's big site.",
        self_url=f"{base}{big_feed_path(index)}",
        language="zh-cn",
        updated=format_datetime(newest) if kind == "xml" else newest.isoformat(),
        entries=entries,
    )
    if kind == "xml":
        text = rss2(feed)
    elif kind == "atom":
        text = atom10(feed)
    else:
        text = dump_json(json_feed(feed, version="1.1"))
    return CONTENT_TYPES[kind], text.encode("utf-8")


def big_summary_feed_path(index: int) -> str:
    return f"/big/summary/feed-{index:02d}.xml"


def big_summary_feed_paths(feeds: int = BIG_FEEDS) -> list[str]:
    return [big_summary_feed_path(index) for index in range(feeds)]


def big_summary_feed(index: int, *, base: str, per_feed: int = BIG_PER_FEED) -> bytes:
    """RSS 2.0 of feed ``index``'s articles with teasers only (the start of the first
    paragraph, cut off with "…"): the whole articles are on their pages."""
    articles = big_articles(index, base=base, per_feed=per_feed)
    entries = []
    for article in articles:
        first = article.content.split("\n", 1)[0].removeprefix("<p>").removesuffix("</p>")
        entries.append(
            Entry(
                title=article.title,
                link=article.url,
                guid=article.url,
                authors=[Person(article.author)],
                categories=list(article.categories),
                published=format_datetime(article.published),
                summary=f"<p>{first[:60]}…</p>",
            )
        )
    newest = articles[0].published if articles else _EPOCH
    feed = Feed(
        title=f"Big site teasers {index:02d} 大站点摘要",
        link=f"{base}/big/",
        description=f"Teasers of generated feed {index} of the mock site's big site.",
        self_url=f"{base}{big_summary_feed_path(index)}",
        language="zh-cn",
        updated=format_datetime(newest),
        entries=entries,
    )
    return rss2(feed).encode("utf-8")


def big_feed_last_modified(index: int, *, per_feed: int = BIG_PER_FEED) -> datetime:
    """The ``Last-Modified`` of feed ``index``: its newest article's date, in UTC."""
    if per_feed == 0:
        return _EPOCH
    return big_article(index, 0, base="").published.astimezone(UTC)


def big_article_page(feed: int, number: int, *, base: str) -> bytes:
    """The HTML page of one big-site article (its canonical URL is the feed's link)."""
    article = big_article(feed, number, base=base)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{escape(article.title)}</title>
<link rel="canonical" href="{article.url}">
<meta property="og:title" content="{escape(article.title)}">
<meta property="article:published_time" content="{article.published.isoformat()}">
</head>
<body><article><h1>{escape(article.title)}</h1>
{article.content}
</article></body>
</html>
""".encode()

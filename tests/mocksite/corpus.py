# ruff: noqa: E501 -- article text and byte-exact HTML bodies: their lines are data to keep, not code
"""The articles the feeds carry, and the HTML templates that turn them into bodies and pages.

Every URL in a body points back at the mock site (``{base}`` is filled in per server), so a
crawl that follows images or links never leaves 127.0.0.1.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from tests.mocksite.images import PLACEHOLDER_GIF_DATA_URI, Image, generated_image, static_images
from tests.mocksite.model import Person


@dataclass(frozen=True)
class Article:
    """One article: its words are fixed here, its HTML is made by the templates below."""

    slug: str
    title: str
    author: Person
    categories: tuple[str, ...]
    language: str
    published: datetime
    summary: str
    paragraphs: tuple[str, ...]
    """Inline markup only, written as XHTML so that the Atom ``type="xhtml"`` writer can use it."""
    images: tuple[str, ...]
    """Image paths on the site, placed after the paragraph of the same index."""


ARTICLES: tuple[Article, ...] = (
    Article(
        slug="keras",
        title="Keras，亡于谷歌？",
        author=Person("机器之心", "editor@mocksite.test"),
        categories=("新媒体", "36kr", "资讯"),
        language="zh-CN",
        published=datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC),
        summary="将 Keras 并入 TensorFlow，到底是不是一个正确的决定？Reddit 上一个「悼念」Keras 的帖子引发了围观。",
        paragraphs=(
            '编者按：本文来自微信公众号<a href="{base}/articles/keras.html">“机器之心”（ID:almosthuman2014）</a>，36氪经授权发布。',
            "将 Keras 并入 TensorFlow，到底是不是一个正确的决定？近日，Reddit 上出现了一个「悼念」Keras 的帖子，"
            "引发了不少人的围观。发帖者表示，谷歌已经慢慢地将 Keras 杀死了。",
            "乍一看，这一观点似乎有点耸人听闻：Keras 活得好好的，怎么能说已经被谷歌杀死了呢？"
            "而且前不久，这个神经网络库刚刚过完 6 岁生日。",
            "Keras was created by Fran&#231;ois Chollet and first released on <strong>27 March 2015</strong>; "
            "TensorFlow adopted it as <code>tf.keras</code> in version 2.0.",
            "为了训练你自己的自定义神经网络，Keras 需要一个后端。后端是一个计算引擎——它可以构建网络的图和拓扑结构，"
            "运行优化器，并执行具体的数字运算。",
        ),
        images=(
            "/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000",
            "/images/cdn/v2_ab8fa89d10bd420ca3a13d217ca67bea_img_000",
            "/images/photo.jpg",
        ),
    ),
    Article(
        slug="sqlite-wal",
        title="SQLite 的 WAL 模式：为什么读和写可以并发",
        author=Person("李雷", "lilei@mocksite.test"),
        categories=("数据库", "SQLite"),
        language="zh-CN",
        published=datetime(2021, 4, 3, 6, 5, 0, tzinfo=UTC),
        summary="预写日志（write-ahead log）让读者看到一致的快照，而写者只追加到 -wal 文件。",
        paragraphs=(
            "默认的回滚日志模式下，写事务会锁住整个数据库文件，读者只能等待。",
            "In WAL mode the writer appends pages to the <code>-wal</code> file while readers keep "
            "reading the last committed snapshot: readers do not block writers, and writers do not block readers.",
            "检查点（checkpoint）把 WAL 中的页写回主数据库文件；<code>PRAGMA wal_autocheckpoint</code> "
            "默认在 1000 页时触发。",
            "代价是多了两个文件（<code>-wal</code> 和 <code>-shm</code>），而且数据库不能放在网络文件系统上。",
        ),
        images=("/images/photo.png",),
    ),
    Article(
        slug="rss-returns",
        title="The quiet return of RSS",
        author=Person("Jane Doe", "jane@mocksite.test", "{base}/authors/jane"),
        categories=("Web", "Syndication"),
        language="en-US",
        published=datetime(2021, 4, 4, 1, 30, 0, tzinfo=UTC),
        summary="Feeds never went away; they went quiet. A look at why readers are coming back.",
        paragraphs=(
            "When Google Reader shut down in 2013, many declared RSS dead. It was not: podcasts, "
            "newsletters and every blog engine kept publishing feeds.",
            "A feed is a promise with a short memory: most keep the last 10 to 20 items, so an item "
            "you do not fetch in time is gone &#8212; which is why people archive them.",
            "用中文写作的博客也一样：订阅源“健忘”，图片放在 CDN 上会失效，或者拒绝外链。",
            "The lesson: fetch often, keep everything, and store the images yourself.",
        ),
        images=("/images/photo.webp", "/images/alpha.png"),
    ),
    Article(
        slug="shenzhen-bay",
        title="深圳湾的早晨：一组照片",
        author=Person("韩梅梅"),
        categories=("摄影", "城市"),
        language="zh-CN",
        published=datetime(2021, 4, 5, 0, 0, 0, tzinfo=UTC),
        summary="清晨六点的深圳湾公园，跑步的人、候鸟和海面上的雾。",
        paragraphs=(
            "清晨六点，深圳湾公园的步道上已经有不少跑步的人。",
            "海面上有一层薄雾，对岸的香港若隐若现。",
            "冬天来这里过冬的候鸟，有黑脸琵鹭，也有大群的鸬鹚。",
            "Photos shot on a phone; the animated one loops twice a second.",
        ),
        images=(
            "/images/animated.gif",
            "/images/gen/1.png",
            "/images/gen/2.jpg",
            "/images/gen/3.webp",
        ),
    ),
    Article(
        slug="python-timezones",
        title="如何在 Python 中正确处理时区 (Time zones in Python, done right)",
        author=Person("Zhang Wei", "zhangwei@mocksite.test"),
        categories=("Python", "编程"),
        language="zh-CN",
        published=datetime(2016, 10, 26, 8, 53, 42, tzinfo=UTC),
        summary="naive datetime 是万恶之源：存储一律用 UTC，展示时再转换。",
        paragraphs=(
            "一个没有时区的时间，比如 <code>2016-10-26 16:53:42</code>，本身是有歧义的。",
            'Use <code>zoneinfo.ZoneInfo("Asia/Shanghai")</code> (Python 3.9+) instead of fixed offsets: '
            "it knows the history of every zone.",
            "注意缩写：CST 既可以是中国标准时间（UTC+8），也可以是美国中部时间（UTC&#8722;6）。",
        ),
        images=("/images/gen/4.png",),
    ),
    Article(
        slug="pboc-report",
        title="央行发布 2021 年第一季度货币政策执行报告",
        author=Person("新华社"),
        categories=("财经", "宏观"),
        language="zh-CN",
        published=datetime(2021, 5, 11, 12, 0, 0, tzinfo=UTC),
        summary="报告指出，稳健的货币政策要灵活精准、合理适度。",
        paragraphs=(
            "中国人民银行 11 日发布《2021 年第一季度中国货币政策执行报告》。",
            "报告指出，稳健的货币政策要灵活精准、合理适度，把服务实体经济放到更加突出的位置。",
            "The report says prudent monetary policy will remain &#8220;flexible, targeted, reasonable and appropriate&#8221;.",
        ),
        images=(),
    ),
)

ARTICLES_BY_SLUG = {article.slug: article for article in ARTICLES}


@functools.cache
def _images() -> dict[str, Image]:
    return static_images()


def image_size(path: str) -> tuple[int, int]:
    """The pixel size of an image the site serves (static or generated)."""
    if path in _images():
        image = _images()[path]
        return image.width, image.height
    seed, _, extension = path.rsplit("/", 1)[1].partition(".")
    generated = generated_image(int(seed), extension)
    return (generated.width, generated.height) if generated else (0, 0)


def _fill(text: str, base: str) -> str:
    return text.replace("{base}", base)


def article_url(article: Article, base: str) -> str:
    return f"{base}/articles/{article.slug}.html"


def article_body(article: Article, base: str) -> str:
    """The body as a feed carries it, in the 36kr style of the seed record."""
    parts = ['<div class="article-content">']
    for index, paragraph in enumerate(article.paragraphs):
        parts.append(f"<p>{_fill(paragraph, base)}</p>")
        if index < len(article.images):
            path = article.images[index]
            width, height = image_size(path)
            parts.append(
                f'<p class="image-wrapper"><img data-img-size-val="{width},{height}" '
                f'src="{base}{path}" referrerpolicy="no-referrer"></p>'
            )
    parts.append("</div>")
    return "\n".join(parts)


def article_xhtml(article: Article, base: str) -> str:
    """The body as well-formed XHTML, for Atom ``type="xhtml"`` content."""
    parts = []
    for index, paragraph in enumerate(article.paragraphs):
        parts.append(f"<p>{_fill(paragraph, base)}</p>")
        if index < len(article.images):
            path = article.images[index]
            width, height = image_size(path)
            parts.append(
                f'<p><img src="{base}{path}" alt="" width="{width}" height="{height}"/></p>'
            )
    return "".join(parts)


def lazy_body(article: Article, base: str) -> str:
    """The body as the article page shows it: lazy images with a data: placeholder."""
    parts = []
    for index, paragraph in enumerate(article.paragraphs):
        parts.append(f"<p>{_fill(paragraph, base)}</p>")
        if index < len(article.images):
            path = article.images[index]
            width, height = image_size(path)
            parts.append(
                f'<figure><img class="lazyload" data-src="{base}{path}" src="{PLACEHOLDER_GIF_DATA_URI}" '
                f'width="{width}" height="{height}" loading="lazy" alt=""></figure>'
            )
    return "\n".join(parts)


def article_page(article: Article, base: str, *, canonical: str | None = None) -> str:
    """A full HTML page: canonical link, Open Graph tags, lazy-loaded images."""
    canonical = canonical or article_url(article, base)
    head_image = f"{base}{article.images[0]}" if article.images else ""
    og_image = f'<meta property="og:image" content="{escape(head_image)}">\n' if head_image else ""
    return f"""<!DOCTYPE html>
<html lang="{article.language}">
<head>
<meta charset="utf-8">
<title>{escape(article.title)} - Mock Site</title>
<link rel="canonical" href="{escape(canonical)}">
<meta name="author" content="{escape(article.author.name)}">
<meta name="description" content="{escape(article.summary)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:url" content="{escape(canonical)}">
{og_image}<meta property="article:published_time" content="{article.published.isoformat()}">
{"".join(f'<meta property="article:tag" content="{escape(tag)}">' for tag in article.categories)}
</head>
<body>
<header><a href="{base}/">Mock Site</a></header>
<article>
<h1>{escape(article.title)}</h1>
<p class="byline">{escape(article.author.name)} · <time datetime="{article.published.isoformat()}">{article.published:%Y-%m-%d %H:%M}</time></p>
{lazy_body(article, base)}
</article>
<script>document.querySelectorAll("img.lazyload").forEach(i => i.src = i.dataset.src)</script>
</body>
</html>
"""


# -- bodies that must survive byte for byte -----------------------------------------------

_FIDELITY_BODIES: tuple[tuple[str, str, str], ...] = (
    (
        "fidelity-wechat",
        "懒加载图片与实体（WeChat-style lazy images and entities）",
        """<div class="rich_media_content " id="js_content" style="visibility: visible;">
<p style="text-align: center;"><img class="rich_pages wxw-img" data-ratio="0.5625" data-src="{base}/images/photo.jpg" data-type="jpeg" data-w="1080" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" style="width: 100%;"  ></p>
<p><span style="font-size: 15px;letter-spacing: 1px;">微信公众号文章的图片是懒加载的：真正的地址在 data-src 里。</span></p>
<p class="image-wrapper"><img data-img-size-val="1080,362" src="{base}/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000" referrerpolicy="no-referrer"></p>
<p>&nbsp;&nbsp;空格、&amp;符号、&lt;尖括号&gt;和 &#x4E2D;&#25991; 实体保持原样 &mdash; entities stay as written.</p>
<p><img src="{base}/images/hotlink.jpg" data-original="{base}/images/hotlink.jpg"/></p>
</div>""",
    ),
    (
        "fidelity-responsive",
        "srcset、picture 和奇怪的属性（srcset, picture and odd attributes）",
        """<figure class="wp-block-image size-large"><img loading="lazy" width="48" height="32" src="{base}/images/gen/1.png" alt="" class="wp-image-42" srcset="{base}/images/gen/1.png 48w, {base}/images/gen/2.png 300w,  {base}/images/gen/3.png 1024w" sizes="(max-width: 640px) 100vw, 640px" /><figcaption>A caption with <em>emphasis</em> — 图注</figcaption></figure>
<picture>
  <source type="image/webp" srcset="{base}/images/photo.webp 1x, {base}/images/gen/4.webp 2x">
  <source media="(min-width: 800px)" srcset="{base}/images/photo.jpg">
  <img src="{base}/images/photo.png" alt="picture fallback">
</picture>
<p><IMG SRC="{base}/images/animated.gif" ALT=Uppercase WIDTH=16 HEIGHT=16></p>
<p><img	alt='single quoted'	src='{base}/images/alpha.png'
     width=32   height = "32" ></p>
<p><img src="{base}/images/same/a.png"><img src="{base}/images/same/b.png"><img src="{base}/images/same/a.png"></p>""",
    ),
    (
        "fidelity-embeds",
        "视频、iframe 和注释（iframes, video and comments）",
        """<p>视频：</p>
<iframe src="{base}/embed/video.html?vid=abc123&amp;autoplay=0" width="640" height="360" frameborder="0" allowfullscreen="true" sandbox="allow-scripts allow-same-origin"></iframe>
<p><video controls poster="{base}/images/gen/5.png"><source src="{base}/media/clip.mp4" type="video/mp4"></video></p>
<blockquote class="twitter-tweet" data-lang="en"><p lang="en" dir="ltr">Archive everything.</p>&mdash; Someone (@someone)</blockquote>
<!-- a comment that a sanitizer would drop -->
<p data-pid="x7Yb" data-track="true">data-* attributes on paragraphs</p>
<table border=1><tr><td>单元格</td><td>cell</td></tr></table>
<p>Text with <br> and <br/> and <br />, an unclosed <b>bold
<p>and a stray </span> closing tag.</p>
<style>.x{color:red}</style>""",
    ),
)


def fidelity_bodies(base: str) -> dict[str, tuple[str, str]]:
    """guid -> (title, body): bodies whose every byte (after XML/JSON decoding) must be kept."""
    return {guid: (title, body.replace("{base}", base)) for guid, title, body in _FIDELITY_BODIES}

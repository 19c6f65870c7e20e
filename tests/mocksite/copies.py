"""Copies: the same articles through several feeds, each copy changed as re-publishing does,
and look-alikes that are not copies (a short newsflash and a long feature on one event).

The originals are real posts (``../shared/corpora/hexo_posts``: 36kr articles and
newsflashes, 金色财经 security newsflashes that all tell of flash-loan attacks) and English
articles written here. Every feed but the origin's changes each copy in its own way:

- ``noted``: an editor's note first (naming and linking the original), a new title, the
  images re-hosted, published two hours later (the others: an hour or half an hour);
- ``mirror`` (Atom): the markup rewritten (``div``/``span``/``br``, bold runs), an
  advertisement in the middle and boilerplate at the end;
- ``traditional``: the Chinese articles in Traditional characters (OpenCC), re-hosted images;
- ``rsshub``: an RSSHub route of the origin's feed (CDATA, bare author names), at URLs of its
  own, its markup re-serialized.

``/copies/truth.json`` lists every entry's URL with the story it belongs to.
"""

from __future__ import annotations

import functools
import json
import re
import zlib
from dataclasses import dataclass
from html import escape
from pathlib import Path

from tests.mocksite.model import Entry, Feed, Person
from tests.mocksite.writers import atom10, rss2

SHARED = Path(__file__).resolve().parents[3] / "shared"
HEXO_POSTS = SHARED / "corpora" / "hexo_posts" / "source" / "_posts"

FEEDS = ("origin", "noted", "mirror", "traditional", "rsshub")


@dataclass(frozen=True)
class Original:
    """One article as its own site published it."""

    slug: str
    title: str
    body: str
    """HTML."""
    published: str
    """RFC 822, GMT."""
    chinese: bool
    copied: tuple[str, ...] = FEEDS
    """The feeds that carry a copy of it."""


ENGLISH = {
    "reservoir": (
        "City opens its new reservoir after six years of work",
        [
            "The city opened its new reservoir on Monday, six years after the first digger "
            "broke ground in the valley north of the ring road.",
            "The lake holds enough water for the whole city for nine months, the water board "
            "said, twice as much as the old reservoir that it replaces.",
            "Engineers had to move a stretch of the old railway line and rebuild two bridges "
            "before the valley could be flooded, which added a year to the work.",
            "Farmers in the valley were paid for their land, though some of them said at the "
            "opening that the money came too late and was too little.",
            "The old reservoir will be drained next spring and turned into a park with paths, "
            "a playground and a pond for the birds that nest there.",
            "Water bills will not rise to pay for the work, the mayor promised, because the "
            "national government paid for two thirds of it.",
        ],
    ),
    "orchestra": (
        "The orchestra that plays in the dark",
        [
            "Every Thursday night the lights go out in the old tram depot and forty musicians "
            "play a symphony that none of the audience can see.",
            "The idea came from the conductor, who lost her sight ten years ago and says that "
            "she never listened so closely as in the first months after.",
            "The players learn every piece by heart, which takes them three times as long as "
            "it would with the score in front of them, and they rehearse in the dark too.",
            "Tickets sell out within an hour, and the waiting list is so long that the depot "
            "added a second night in the spring.",
            "Some listeners come back every week; one man said he had heard the same Brahms "
            "symphony eleven times and that it was never the same twice.",
            "Next season the orchestra will tour five cities, playing in a car park, a church, "
            "a swimming pool and a mine.",
        ],
    ),
    "bees": (
        "Rooftop bees thrive in the middle of the city",
        [
            "On the roof of the central library, twelve hives hum from April to October, and "
            "the honey sells out at the library's own shop within days.",
            "City bees do better than country ones, the beekeeper says, because parks, "
            "gardens and balconies flower one after another all summer long.",
            "Farmland is often one crop for miles, sprayed and mown at once, and bees there go "
            "hungry for weeks after it is cut.",
            "The library started with two hives five years ago; now schools visit every week "
            "and children in veils lift the frames out themselves.",
            "Not everyone is pleased: a café across the square complains that the bees come "
            "for its jam, and the library has put a water trough on the roof to keep them home.",
            "This year's honey is darker than last year's, which the beekeeper puts down to "
            "the lime trees that were planted along the avenue.",
        ],
    ),
}

# Look-alikes: a newsflash and a feature about one event, sharing the newsflash's facts.
FLASH_EN = (
    "Council passes the budget by seven votes to six",
    [
        "The city council passed next year's budget by seven votes to six on Tuesday night, "
        "after a debate that lasted more than eight hours. Libraries get more money; road "
        "repairs wait another year.",
    ],
)
FEATURE_EN = (
    "Inside the longest budget night in the council's history",
    [
        "The city council passed next year's budget by seven votes to six on Tuesday night, "
        "after a debate that lasted more than eight hours.",
        "It began at four in the afternoon with a protest outside: parents with banners for "
        "the libraries, and a group of cyclists who wanted the potholes filled first.",
        "Inside, the finance committee's chair spoke for an hour, going line by line through "
        "a plan that she said was the tightest in twenty years.",
        "The opposition proposed eleven changes. Ten were voted down; the eleventh, which "
        "moves money from the new town hall screens to school meals, passed by one vote.",
        "By midnight the public gallery had emptied, and the last speeches were given to "
        "rows of empty chairs and one reporter who had brought a flask of coffee.",
        "The mayor spoke last. She asked the members to think of the children who would use "
        "the libraries, and two members who had meant to vote against changed their minds.",
        "The roads, the council's engineers warn, will now cost a third more to repair than "
        "they would have last year, and the next budget will have to pay for it.",
    ],
)
FLASH_ZH = "10月制造业PMI为49.2"
FEATURE_ZH = (
    "制造业PMI连续两月低于临界点：原材料涨价与限电下的十月",
    [
        "10月份，中国制造业采购经理指数（PMI）为49.2%，比上月下降0.4个百分点，继续低于临界点，"
        "制造业景气度有所减弱。",
        "分行业看，高耗能行业受限电影响最大，钢铁、化工和建材企业的生产指数降幅明显，"
        "部分地区的工厂一周只能开工三四天。",
        "原材料价格的上涨是另一重压力。主要原材料购进价格指数升至七十以上，为近年来的高点，"
        "中下游企业的利润空间被进一步压缩。",
        "不过，高技术制造业和消费品行业的表现相对平稳，新出口订单指数也略有回升，"
        "显示外需仍有一定韧性。",
        "多位经济学家认为，随着能耗双控政策的调整和煤炭供应的增加，限电对生产的影响有望在"
        "年底前逐步缓解，但原材料价格的回落仍需时间。",
        "业内人士建议，中小企业应提前锁定原材料价格，并通过数字化改造提高能源利用效率，"
        "以应对未来几个月可能持续的成本压力。",
    ],
)

AD_ZH = (
    "<p>【广告】限时优惠：扫码领取新人专享礼包，名额有限，先到先得！</p>"
    "<p>新用户首月仅需9.9元，立即下载APP体验全部功能。</p>"  # no label: left in the text
)
FOOTER_ZH = "<p>关注我们的公众号，获取更多科技资讯。本文版权归原作者所有，如有侵权请联系删除。</p>"
AD_EN = (
    "<p>ADVERTISEMENT — Subscribe today and get your first three months for free.</p>"
    "<p>Download our app and read every story first, wherever you are.</p>"  # no label
)
FOOTER_EN = (
    "<p>Follow us on social media for more stories like this one. All rights reserved; "
    "republished with permission.</p>"
)


@functools.cache
def originals() -> tuple[Original, ...]:
    """Every original, real posts first, then those written here, then the look-alikes."""
    found: list[Original] = []
    for index, path in enumerate(sorted(HEXO_POSTS.rglob("*.md"))):
        front, body = _read_post(path)
        title = front.get("title", path.stem).strip("'\"")
        published = front.get("date") or "Fri, 02 Apr 2021 06:27:15 GMT"
        if published == "Invalid Date":
            published = "Fri, 02 Apr 2021 06:27:15 GMT"
        found.append(
            Original(
                f"post-{index}",
                title,
                body,
                published,
                chinese=True,
                # the PMI newsflash has a feature look-alike: its copies stay with it
                copied=FEEDS,
            )
        )
    for index, (slug, (title, paragraphs)) in enumerate(ENGLISH.items()):
        found.append(
            Original(
                slug,
                title,
                "".join(f"<p>{escape(p)}</p>" for p in paragraphs),
                f"Mon, 0{index + 1} Mar 2021 09:00:00 GMT",
                chinese=False,
                copied=("origin", "noted", "mirror", "rsshub"),
            )
        )
    for slug, (title, paragraphs), copied in (
        ("flash-en", FLASH_EN, ("origin", "noted")),
        ("feature-en", FEATURE_EN, ("origin", "mirror")),
        ("feature-zh", FEATURE_ZH, ("origin", "traditional", "mirror")),
    ):
        found.append(
            Original(
                slug,
                title,
                "".join(f"<p>{escape(p)}</p>" for p in paragraphs),
                "Wed, 03 Nov 2021 08:00:00 GMT",
                chinese=slug.endswith("zh"),
                copied=copied,
            )
        )
    return tuple(found)


def entry_url(base: str, feed: str, original: Original) -> str:
    return f"{base}/copies/{feed}/{original.slug}.html"


def truth(base: str) -> bytes:
    """Every entry's URL and the story it belongs to (the original's slug)."""
    rows = [
        {"url": entry_url(base, feed, original), "story": original.slug, "feed": feed}
        for original in originals()
        for feed in original.copied
        if feed != "traditional" or original.chinese
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode()


def origin_rss(base: str) -> bytes:
    entries = [_entry(base, "origin", o, o.title, o.body, o.published) for o in originals()]
    return rss2(_feed(base, "origin", "Origin News", entries)).encode()


def noted_rss(base: str) -> bytes:
    entries = []
    for original in _carried("noted"):
        link = entry_url(base, "origin", original)
        if original.chinese:
            note = (
                f'<p>编者按：本文来自<a href="{link}">微信公众号“源头新闻”（ID:yuantou）</a>，'
                "作者：编辑部，36氪经授权发布。</p>"
            )
            title = f"{original.title}｜深度"
        else:
            note = (
                f'<p>Editor\'s note: This article was <a href="{link}">originally published '
                "by Origin News</a> and is republished here with permission.</p>"
            )
            title = f"Read: {original.title.lower()}"
        body = note + _rehost(original.body, base, "noted")
        entries.append(
            _entry(base, "noted", original, title, body, _later(original.published, 120))
        )
    return rss2(_feed(base, "noted", "The Noted Reader", entries)).encode()


def mirror_atom(base: str) -> bytes:
    entries = []
    for original in _carried("mirror"):
        ad, footer = (AD_ZH, FOOTER_ZH) if original.chinese else (AD_EN, FOOTER_EN)
        ends = [m.end() for m in re.finditer(r"</p>", original.body)]
        middle = ends[len(ends) // 2 - 1] if len(ends) > 1 else len(original.body)
        body = _rewrite(original.body[:middle]) + ad + _rewrite(original.body[middle:]) + footer
        entries.append(
            _entry(base, "mirror", original, original.title, body, _later(original.published, 60))
        )
    feed = _feed(base, "mirror", "Mirror Aggregator", entries)
    return atom10(feed).encode()


def traditional_rss(base: str) -> bytes:
    from opencc import OpenCC

    converter = OpenCC("s2t")
    entries = [
        _entry(
            base,
            "traditional",
            original,
            converter.convert(original.title),
            _rehost(_convert_text(original.body, converter.convert), base, "traditional"),
            _later(original.published, 60),
        )
        for original in _carried("traditional")
        if original.chinese
    ]
    return rss2(_feed(base, "traditional", "繁體轉載", entries)).encode()


def rsshub_rss(base: str) -> bytes:
    entries = [
        _entry(
            base,
            "rsshub",
            original,
            original.title,
            re.sub(r"\s*\n\s*", "", original.body).replace("<p>", '<p style="">'),
            _later(original.published, 30),
        )
        for original in _carried("rsshub")
    ]
    feed = _feed(base, "rsshub", "Origin News - RSSHub", entries)
    feed.description_cdata = True
    feed.plain_authors = True
    return rss2(feed).encode()


# -- the variations -------------------------------------------------------------------------


def _carried(feed: str) -> list[Original]:
    return [o for o in originals() if feed in o.copied]


def _entry(
    base: str, feed: str, original: Original, title: str, body: str, published: str
) -> Entry:
    url = entry_url(base, feed, original)
    return Entry(
        title=title,
        link=url,
        guid=url,
        authors=[Person("编辑部" if original.chinese else "Staff")],
        published=published,
        content=body,
    )


def _feed(base: str, name: str, title: str, entries: list[Entry]) -> Feed:
    return Feed(
        title=title,
        link=f"{base}/copies/{name}/",
        self_url=f"{base}/copies/{name}.xml",
        updated="Thu, 04 Nov 2021 12:00:00 GMT",
        entries=entries,
    )


def _read_post(path: Path) -> tuple[dict[str, str], str]:
    """A Hexo post's front-matter (flat ``key: value`` lines) and its body HTML."""
    text = path.read_text("utf-8")
    _, front, body = text.split("---", 2)
    fields = {}
    for line in front.splitlines():
        key, colon, value = line.partition(":")
        if colon and not line.startswith(" "):
            fields[key.strip()] = value.strip()
    body = body.strip().replace("&#123;", "{").replace("&#125;", "}")
    return fields, body


def _rewrite(html: str) -> str:
    """Markup as another CMS writes it: paragraphs become divs of spans ending in a line
    break, bold becomes ``<b>``, and the markup loses its line breaks."""
    html = re.sub(r"<p\b[^>]*>", '<div class="para"><span>', html)
    html = html.replace("</p>", "</span><br/></div>")
    html = re.sub(r"<(/?)strong\b[^>]*>", r"<\1b>", html)
    return re.sub(r">\s+<", "><", html)


def _rehost(body: str, base: str, feed: str) -> str:
    """Every image moved to the copier's own CDN, under another name."""
    return re.sub(
        r'src="[^"]*?([^/"]+?)"',
        lambda m: f'src="{base}/copies/{feed}/cdn/{zlib.crc32(m.group(1).encode())}.jpg"',
        body,
    )


def _convert_text(html: str, convert: object) -> str:
    """The text between tags converted, the tags (and their URLs) left alone."""
    assert callable(convert)
    return re.sub(r">([^<]+)<", lambda m: ">" + convert(m.group(1)) + "<", f">{html}<")[1:-1]


def _later(published: str, minutes: int) -> str:
    """*minutes* after an RFC 822 GMT date: a copy comes later."""
    from email.utils import format_datetime, parsedate_to_datetime

    try:
        when = parsedate_to_datetime(published)
    except (TypeError, ValueError):
        return published
    from datetime import timedelta

    return format_datetime(when + timedelta(minutes=minutes), usegmt=True)

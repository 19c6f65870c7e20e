"""Whole articles: feeds that fall short of their articles, and the pages that hold them.

Every page is a real-looking article page (navigation, share bar, related links, comments,
a footer) whose main text is long and whose images are lazy-loaded or extension-less, with
one kind of metadata each: JSON-LD, Open Graph, only a ``<time>``, or nothing at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

from tests.mocksite.model import Entry, Feed, Person
from tests.mocksite.writers import atom10, rss2

PARAGRAPHS = (
    "The committee met on Tuesday to discuss the new budget, which sets aside money for "
    "schools, roads and the city's libraries over the next three years.",
    "Members argued for most of the afternoon about how much the libraries should get, and "
    "whether the roads could wait another year for their repairs.",
    "委员会周二开会讨论新的预算，为未来三年的学校、道路和城市图书馆拨款。会议持续了整个下午。",
    "In the end the vote was close: seven members voted for the budget and six against it, "
    "after the mayor spoke last and asked them to think of the children.",
    "The money for the libraries will pay for longer opening hours on weekends and for a "
    "new reading room in the northern district, which has none today.",
    "Critics said the plan leaves too little for the roads, where the repairs that were put "
    "off last year will now cost a third more than they would have then.",
)

NAVIGATION = (
    '<header><nav><a href="/">Home</a> <a href="/world">World</a> '
    '<a href="/sport">Sport</a> <a href="/culture">Culture</a></nav></header>'
)
BOILERPLATE = (
    '<div class="share">Share on Twitter · Share on Facebook · Copy the link</div>'
    '<aside class="related"><h3>Related stories</h3><ul>'
    '<li><a href="/whole/pages/other-1.html">Council approves new bus lanes</a></li>'
    '<li><a href="/whole/pages/other-2.html">Libraries to open on Sundays</a></li></ul></aside>'
    '<section class="comments"><h3>Comments</h3><p>First! Great article, thanks.</p>'
    "<p>I disagree with every word of this.</p></section>"
    "<footer><p>About us · Contact · Privacy</p><p>© 2021 The Example Times</p></footer>"
)


@dataclass(frozen=True)
class WholePage:
    """One article page of the group: its slug, title, date and the metadata it carries."""

    slug: str
    title: str
    published: str
    """ISO 8601, as the page declares it (in one way or another)."""
    metadata: str
    """``ld`` (JSON-LD), ``og`` (Open Graph), ``time`` (a ``<time>`` only), ``none``."""
    author: str = "Li Lei"


PAGES = (
    WholePage("budget-ld", "Budget passes after a long day", "2021-04-01T08:00:00+08:00", "ld"),
    WholePage("budget-og", "Libraries win in the new budget", "2021-04-02T09:30:00Z", "og"),
    WholePage("budget-time", "Roads must wait another year", "2021-04-03T10:00:00Z", "time"),
    WholePage("budget-none", "The mayor spoke last", "2021-04-04T11:00:00Z", "none"),
)
PAGES_BY_SLUG = {page.slug: page for page in PAGES}


def main_text(page: WholePage) -> list[str]:
    """The paragraphs of a page's article, each made its own by the page's title."""
    return [f"{page.title}: {paragraph}" for paragraph in PARAGRAPHS]


def page_images(page: WholePage) -> list[str]:
    """The images a page's article shows (paths): a lazy PNG and an extension-less one."""
    number = PAGES.index(page) + 40
    return [f"/images/gen/{number}.png", "/images/cdn/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000"]


def article_page(page: WholePage, base: str) -> bytes:
    head = [f"<title>{escape(page.title)} | The Example Times</title>"]
    byline = f'<p class="byline">By {escape(page.author)}</p>'
    if page.metadata == "ld":
        ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": page.title,
            "datePublished": page.published,
            "author": {"@type": "Person", "name": page.author},
            "image": f"{base}/images/gen/60.png",
        }
        head.append(f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    elif page.metadata == "og":
        head += [
            f'<meta property="og:title" content="{escape(page.title)}">',
            f'<meta property="article:published_time" content="{page.published}">',
            f'<meta property="og:image" content="{base}/images/gen/61.png">',
            f'<meta name="author" content="{escape(page.author)}">',
        ]
    elif page.metadata == "time":
        byline += f'<time datetime="{page.published}">{page.published[:10]}</time>'
    lazy, cdn = page_images(page)
    paragraphs = [f"<p>{escape(text)}</p>" for text in main_text(page)]
    paragraphs.insert(
        2,
        f'<figure><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
        f'data-src="{lazy}" alt="The vote"><figcaption>The vote.</figcaption></figure>',
    )
    paragraphs.insert(5, f'<p><img src="{base}{cdn}" alt="The hall"></p>')
    body = (
        f"{NAVIGATION}<main><article><h1>{escape(page.title)}</h1>{byline}"
        + "".join(paragraphs)
        + f"</article>{BOILERPLATE}</main>"
    )
    return _html("\n".join(head), body)


def ruled_page(base: str, *, redesigned: bool = False) -> bytes:
    """A page whose article sits in ``div.story-text`` (an ad inside it), or, redesigned,
    in ``div.article-body``: a site rule for the first no longer matches the second."""
    container = "article-body" if redesigned else "story-text"
    text = "".join(f"<p>Ruled: {escape(p)}</p>" for p in PARAGRAPHS)
    body = (
        f'{NAVIGATION}<div class="{container}">{text}'
        '<div class="ad">ADVERTISEMENT: buy our newspaper</div></div>'
        f"{BOILERPLATE}"
    )
    return _html("<title>A ruled page</title>", body)


def consent_page(base: str) -> bytes:
    """What a site shows a crawler instead of the article: a consent wall, a few words."""
    return _html("<title>Before you continue</title>", "<p>Please accept our cookies.</p>")


def _html(head: str, body: str) -> bytes:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head>'
        f"<body>{body}</body></html>"
    ).encode()


def _teaser(page: WholePage) -> str:
    return f"<p>{escape(main_text(page)[0][:90])}…</p>"


def _feed(base: str, path: str, entries: list[Entry]) -> Feed:
    return Feed(
        title="The Example Times",
        link=f"{base}/",
        self_url=f"{base}{path}",
        language="en",
        updated="Mon, 05 Apr 2021 12:00:00 GMT",
        entries=entries,
    )


def summary_atom(base: str) -> bytes:
    """Atom whose entries carry a teaser only (``<summary>``), one per page of ``PAGES``."""
    entries = [
        Entry(
            title=page.title,
            link=f"{base}/whole/pages/{page.slug}.html",
            guid=f"urn:example:{page.slug}",
            authors=[Person(page.author)],
            updated=page.published,
            summary=_teaser(page),
        )
        for page in PAGES
    ]
    return atom10(_feed(base, "/whole/summary.atom", entries)).encode()


def truncated_rss(base: str) -> bytes:
    """RSS whose bodies are cut off ("… Read more"); one names a page the Atom feed names."""
    page = PAGES_BY_SLUG["budget-og"]
    long_start = "".join(f"<p>{escape(text)}</p>" for text in main_text(page)[:3])
    entries = [
        Entry(
            title=page.title,
            link=f"{base}/whole/pages/{page.slug}.html",
            guid=f"{base}/whole/pages/{page.slug}.html",
            published="Fri, 02 Apr 2021 09:30:00 GMT",
            content=f'{long_start}<p><a href="{base}/whole/pages/{page.slug}.html">'
            "Read more</a></p>",
        )
    ]
    return rss2(_feed(base, "/whole/truncated.xml", entries)).encode()


def full_rss(base: str) -> bytes:
    """RSS whose ``<description>`` is the whole article: no page need be fetched."""
    text = "".join(f"<p>Whole: {escape(p)}</p>" for p in PARAGRAPHS)
    entries = [
        Entry(
            title="The whole article in the feed",
            link=f"{base}/whole/pages/full.html",
            guid=f"{base}/whole/pages/full.html",
            published="Mon, 05 Apr 2021 08:00:00 GMT",
            summary=text,
        )
    ]
    return rss2(_feed(base, "/whole/full.xml", entries)).encode()


def ruled_rss(base: str) -> bytes:
    """Two teasers: one page a rule matches, one redesigned since the rule was written."""
    entries = [
        Entry(
            title=title,
            link=f"{base}/whole/pages/{slug}.html",
            guid=f"{base}/whole/pages/{slug}.html",
            published="Tue, 06 Apr 2021 08:00:00 GMT",
            summary="<p>A teaser.</p>",
        )
        for slug, title in (("ruled", "A ruled page"), ("redesigned", "A redesigned page"))
    ]
    return rss2(_feed(base, "/whole/ruled.xml", entries)).encode()


FAILING_PAGES = ("missing", "broken", "consent")
"""``/whole/pages/missing.html`` answers 404, ``broken.html`` 500, ``consent.html`` a
consent wall shorter than the feed's teaser."""


def failing_rss(base: str) -> bytes:
    """Teasers whose pages fail: 404, 500, and a consent wall."""
    teaser = "<p>" + "A teaser of some length, longer than a consent wall. " * 3 + "…</p>"
    entries = [
        Entry(
            title=f"A page that fails: {name}",
            link=f"{base}/whole/pages/{name}.html",
            guid=f"{base}/whole/pages/{name}.html",
            published="Wed, 07 Apr 2021 08:00:00 GMT",
            summary=teaser,
        )
        for name in FAILING_PAGES
    ]
    return rss2(_feed(base, "/whole/failing.xml", entries)).encode()

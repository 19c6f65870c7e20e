"""The one allow-list of every output: what survives and what never does."""

from __future__ import annotations

import pytest

from archiver.render import sanitize_html

HOSTILE = (
    '<p onclick="steal()">Hi <a href="javascript:alert(1)">js</a>'
    '<a href=" JaVaScRiPt:alert(2)">js2</a><a href="data:text/html,x">data</a>'
    '<img src="x.png" onerror="alert(3)"><img src="data:text/html;base64,AAA">'
    '<img src="data:image/svg+xml;base64,AAA">'
    "<script>alert(4)</script><style>p{}</style><form><input name=a></form>"
    '<iframe src="https://evil.example/"></iframe><svg onload="alert(5)"></svg>'
    '<object data="x.swf"></object><embed src="x.swf"></p>'
)


@pytest.mark.parametrize(
    "needle",
    ["onclick", "javascript", "JaVaScRiPt", "data:text", "svg", "onerror", "alert", "<script",
     "<style", "<form", "<input", "<iframe", "<object", "<embed", "steal"],
)  # fmt: skip
def test_nothing_hostile_survives(needle: str) -> None:
    assert needle.lower() not in sanitize_html(HOSTILE, iframe_hosts=()).lower()


def test_formatting_images_links_and_tables_are_kept() -> None:
    html = (
        '<h2>T</h2><p><strong>b</strong> <em>i</em> <a href="https://a.example/x">a</a> '
        '<a href="/rel">r</a> <a href="mailto:x@y.example">m</a></p>'
        '<figure><img src="https://a.example/i.png" alt="A"><figcaption>c</figcaption></figure>'
        '<img src="file:///tmp/media/x.png"><img src="data:image/png;base64,iVBOR">'
        '<table><tr><td colspan="2">t</td></tr></table><ul><li>l</li></ul>'
    )
    clean = sanitize_html(html, iframe_hosts=())
    for kept in (
        "<h2>T</h2>", "<strong>b</strong>", "<em>i</em>", 'href="https://a.example/x"',
        'href="/rel"', 'href="mailto:x@y.example"', 'src="https://a.example/i.png"', 'alt="A"',
        "<figcaption>c</figcaption>", 'src="file:///tmp/media/x.png"',
        'src="data:image/png;base64,iVBOR"', 'colspan="2"', "<li>l</li>",
    ):  # fmt: skip
        assert kept in clean


def test_iframes_only_from_listed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    html = (
        '<iframe src="https://www.youtube.com/embed/v" onload="x()"></iframe>'
        '<iframe src="https://evil.example/embed/v"></iframe>'
        '<iframe src="javascript:alert(1)"></iframe>'
    )
    assert "<iframe" not in sanitize_html(html, iframe_hosts=())
    clean = sanitize_html(html, iframe_hosts=["youtube.com"])
    assert 'src="https://www.youtube.com/embed/v"' in clean
    for gone in ("evil", "javascript", "onload"):
        assert gone not in clean
    monkeypatch.setenv("ARCHIVER_IFRAME_HOSTS", "youtube.com, player.vimeo.com")
    assert 'src="https://www.youtube.com/embed/v"' in sanitize_html(html)
    monkeypatch.delenv("ARCHIVER_IFRAME_HOSTS")
    assert "<iframe" not in sanitize_html(html)


def test_empty_and_plain_text() -> None:
    assert sanitize_html("") == ""
    assert sanitize_html("a < b & c") == "a &lt; b &amp; c"

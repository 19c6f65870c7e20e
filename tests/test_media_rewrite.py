"""Rewriting bodies so archived images show from disk; everything else stays as published."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from archiver.items import ImageRef
from archiver.media import find_images, local_image_map, rewrite_images

BASE = "https://news.example.com/2024/05/article.html"
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
LOCAL_A = "media/images/aa/" + "a" * 64 + ".png"
LOCAL_B = "media/images/bb/" + "b" * 64 + ".webp"


def test_only_image_tags_change_and_the_rest_is_byte_for_byte() -> None:
    html = (
        "<p class='lead'>Hello &amp; welcome,&nbsp;读者</p>\n"
        '<IMG SRC="/a.png" ALT="A &quot;quoted&quot; alt" width=640>\n'
        "<!-- a comment --><script>var s = '<img src=/x.png>';</script>"
    )
    out = rewrite_images(html, {"/a.png": LOCAL_A})
    assert out == (
        "<p class='lead'>Hello &amp; welcome,&nbsp;读者</p>\n"
        f'<img src="{LOCAL_A}" alt="A &quot;quoted&quot; alt" width="640">\n'
        "<!-- a comment --><script>var s = '<img src=/x.png>';</script>"
    )


def test_nothing_archived_and_nothing_lazy_leaves_the_html_identical() -> None:
    html = '<p><img src="/a.png" alt=x></p><img src="b.jpg">'
    assert rewrite_images(html, {}) == html
    assert rewrite_images(html, {"/other.png": LOCAL_A}) == html
    assert rewrite_images("", {}) == ""


def test_keys_match_as_written_or_absolute() -> None:
    html = '<img src="../05/a.png">'
    assert rewrite_images(html, {"../05/a.png": LOCAL_A}) == f'<img src="{LOCAL_A}">'
    absolute = {"https://news.example.com/2024/05/a.png": LOCAL_A}
    assert rewrite_images(html, absolute, base_url=BASE) == f'<img src="{LOCAL_A}">'


def test_lazy_attributes_are_resolved_into_src() -> None:
    html = (
        f'<img class="lazy" src="{PLACEHOLDER}" data-src="/a.png" '
        'data-original="/a.png" data-ratio="0.5">'
    )
    out = rewrite_images(html, {"/a.png": LOCAL_A})
    assert out == f'<img class="lazy" src="{LOCAL_A}" data-ratio="0.5">'


def test_a_failed_image_keeps_its_remote_url_but_shows_without_scripts() -> None:
    html = (
        f'<img src="{PLACEHOLDER}" data-src="/dead.png" '
        'data-srcset="/dead.png 1x, /dead@2x.png 2x">'
    )
    out = rewrite_images(html, {}, base_url=BASE)
    assert out == (
        '<img src="https://news.example.com/dead.png" '
        'srcset="https://news.example.com/dead.png 1x, https://news.example.com/dead@2x.png 2x">'
    )


def test_srcset_keeps_only_local_candidates() -> None:
    html = '<img src="s.jpg" srcset="s.jpg 320w, l.jpg 1280w" sizes="100vw">'
    out = rewrite_images(html, {"l.jpg": LOCAL_A})
    assert out == f'<img src="{LOCAL_A}" srcset="{LOCAL_A} 1280w" sizes="100vw">'


def test_a_smaller_archived_candidate_beats_a_remote_one() -> None:
    html = '<img src="s.jpg" srcset="s.jpg 1x, l.jpg 2x">'
    out = rewrite_images(html, {"s.jpg": LOCAL_A})
    assert out == f'<img src="{LOCAL_A}" srcset="{LOCAL_A} 1x">'


def test_picture_sources_without_a_local_file_are_removed() -> None:
    html = (
        "<picture>"
        '<source type="image/avif" srcset="/p.avif 2000w">'
        '<source type="image/webp" srcset="/p-800.webp 800w, /p-2000.webp 2000w">'
        '<img src="/p.jpg" alt="p">'
        "</picture>"
    )
    out = rewrite_images(html, {"/p-2000.webp": LOCAL_B}, base_url=BASE)
    assert out == (
        "<picture>"
        f'<source type="image/webp" srcset="{LOCAL_B} 2000w">'
        f'<img src="{LOCAL_B}" alt="p">'
        "</picture>"
    )


def test_a_picture_that_failed_keeps_its_sources() -> None:
    html = '<picture><source data-srcset="/p.webp"><img src="/p.jpg"></picture>'
    out = rewrite_images(html, {}, base_url=BASE)
    assert out == (
        '<picture><source srcset="https://news.example.com/p.webp">'
        '<img src="https://news.example.com/p.jpg"></picture>'
    )


def test_noscript_copies_are_rewritten_too() -> None:
    html = f'<img src="{PLACEHOLDER}" data-src="/a.png"><noscript><img src="/a.png"/></noscript>'
    out = rewrite_images(html, {"/a.png": LOCAL_A})
    assert out == f'<img src="{LOCAL_A}"><noscript><img src="{LOCAL_A}" /></noscript>'


def test_local_paths_are_escaped() -> None:
    out = rewrite_images('<img src="/a.png">', {"/a.png": 'x"><script>alert(1)</script>'})
    assert out == '<img src="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'


def test_local_image_map_from_refs_and_from_show_json() -> None:
    refs = [
        ImageRef(
            url="https://news.example.com/a.png",
            src="/a.png",
            position=0,
            path="images/aa/a.png",
            status="downloaded",
        ),
        ImageRef(
            url="https://cdn.example.com/b.png",
            src="//cdn.example.com/b.png",
            position=1,
            path="images/bb/b.png",
            status="cached",
        ),
        ImageRef(url="https://x.example.com/dead.png", src="dead.png", position=2, status="failed"),
    ]
    assert local_image_map(refs, "../media") == {
        "https://news.example.com/a.png": "../media/images/aa/a.png",
        "/a.png": "../media/images/aa/a.png",
        "https://cdn.example.com/b.png": "../media/images/bb/b.png",
        "//cdn.example.com/b.png": "../media/images/bb/b.png",
    }
    shown = [
        {"url": "https://news.example.com/a.png", "src": "/a.png", "path": "images/aa/a.png",
         "status": "downloaded"},
        {"url": "https://x.example.com/dead.png", "src": "dead.png", "path": None,
         "status": "failed", "error": "http-404"},
    ]  # fmt: skip
    assert local_image_map(shown) == {
        "https://news.example.com/a.png": "images/aa/a.png",
        "/a.png": "images/aa/a.png",
    }


def test_every_found_image_is_rewritten_when_all_are_archived() -> None:
    html = (
        f'<p><img src="{PLACEHOLDER}" data-original="/1.jpg"></p>'
        '<img srcset="/2-a.jpg 300w, /2-b.jpg 900w">'
        '<picture><source srcset="/3.webp 2x"><img src="/3.jpg"></picture>'
        '<noscript><img src="/4.gif"></noscript><img src="5.png">'
    )
    found = find_images(html, BASE)
    mapping = {f.url: f"local/{f.position}" for f in found}
    out = rewrite_images(html, mapping, base_url=BASE)
    remaining = find_images(out, "file:///archive/")
    assert all(f.url.startswith("file:///archive/local/") for f in remaining)  # nothing remote
    for position in range(len(found)):
        assert f"local/{position}" in out


@given(st.text(max_size=200), st.dictionaries(st.text(max_size=10), st.text(max_size=10)))
def test_any_text_is_rewritten_without_error(html: str, mapping: dict[str, str]) -> None:
    out = rewrite_images(html, mapping)
    if "<img" not in html.lower() and "<source" not in html.lower():
        assert out == html

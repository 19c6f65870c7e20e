"""Finding the images of a body: lazy attributes, srcset, picture, noscript, relative URLs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.media import FoundImage, find_images
from archiver.media._markup import LAZY_SRC_ATTRIBUTES

BASE = "https://news.example.com/2024/05/article.html"
PLACEHOLDER = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


def urls(html: str, base: str = BASE) -> list[str]:
    return [found.url for found in find_images(html, base)]


def test_plain_img_src_in_body_order_with_positions() -> None:
    found = find_images('<p>a<img src="/a.png">b</p><img src="b.jpg" alt="B">', BASE)
    assert found == [
        FoundImage("https://news.example.com/a.png", "/a.png", 0, "src"),
        FoundImage("https://news.example.com/2024/05/b.jpg", "b.jpg", 1, "src"),
    ]


@pytest.mark.parametrize("attribute", LAZY_SRC_ATTRIBUTES)
def test_every_lazy_attribute_wins_over_a_placeholder_src(attribute: str) -> None:
    html = f'<img src="{PLACEHOLDER}" {attribute}="https://cdn.example.com/real.jpg">'
    [found] = find_images(html, BASE)
    assert found.url == "https://cdn.example.com/real.jpg"
    assert found.attribute == attribute
    assert found.src == "https://cdn.example.com/real.jpg"


@pytest.mark.parametrize(
    "placeholder", [PLACEHOLDER, "", "about:blank", "#", "  ", "javascript:void(0)"]
)
def test_placeholder_src_values(placeholder: str) -> None:
    assert urls(f'<img src="{placeholder}" data-src="/real.png">') == [
        "https://news.example.com/real.png"
    ]
    assert urls(f'<img src="{placeholder}">') == []


def test_a_lazy_attribute_wins_over_a_real_loading_image_too() -> None:
    # Many pages put a spinner or a blurred preview in src, not a data: URI.
    html = '<img src="/static/loading.gif" data-original="/full/photo.jpg" class="lazy">'
    assert urls(html) == ["https://news.example.com/full/photo.jpg"]


def test_zhihu_style_data_original_names_the_full_size() -> None:
    html = (
        f'<img src="{PLACEHOLDER}" data-actualsrc="https://pic1.zhimg.com/v2-1_b.jpg" '
        'data-original="https://pic1.zhimg.com/v2-1_r.jpg">'
    )
    assert urls(html) == ["https://pic1.zhimg.com/v2-1_r.jpg"]


def test_wechat_style_body() -> None:
    html = (
        '<p><img class="rich_pages wxw-img" data-ratio="0.56" data-type="png" '
        f'src="{PLACEHOLDER}" '
        'data-src="https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&amp;from=appmsg" '
        'data-w="1080"></p>'
    )
    [found] = find_images(html, "https://mp.weixin.qq.com/s/xyz")
    assert found.url == "https://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&from=appmsg"


def test_srcset_keeps_the_widest_candidate() -> None:
    html = '<img src="s.jpg" srcset="s.jpg 320w, l.jpg 1280w, m.jpg 640w" sizes="100vw">'
    [found] = find_images(html, BASE)
    assert found.url == "https://news.example.com/2024/05/l.jpg"
    assert (found.src, found.attribute) == ("l.jpg", "srcset")


def test_srcset_density_descriptors_keep_the_highest() -> None:
    assert urls('<img src="a.jpg" srcset="a.jpg 1x, a@3x.jpg 3x, a@2x.jpg 2x">') == [
        "https://news.example.com/2024/05/a@3x.jpg"
    ]


def test_src_wins_a_tie_with_a_1x_candidate() -> None:
    assert urls('<img src="big.jpg" srcset="other.jpg">') == [
        "https://news.example.com/2024/05/big.jpg"
    ]


def test_srcset_urls_with_commas() -> None:
    html = (
        '<img srcset="https://res.cloudinary.com/x/image/upload/w_400,h_300/p.jpg 400w, '
        'https://res.cloudinary.com/x/image/upload/w_800,h_600/p.jpg 800w">'
    )
    assert urls(html) == ["https://res.cloudinary.com/x/image/upload/w_800,h_600/p.jpg"]


def test_lazy_data_srcset_wins_over_a_placeholder_srcset() -> None:
    html = (
        f'<img src="{PLACEHOLDER}" srcset="{PLACEHOLDER} 1x" '
        'data-srcset="/p-480.webp 480w, /p-960.webp 960w" data-sizes="auto">'
    )
    assert urls(html) == ["https://news.example.com/p-960.webp"]


def test_picture_sources_count_with_the_img_and_one_image_per_picture() -> None:
    html = (
        "<picture>"
        '<source media="(max-width: 600px)" srcset="/crop-600.jpg 600w">'
        '<source type="image/webp" srcset="/p-800.webp 800w, /p-2000.webp 2000w">'
        '<img src="/p-1000.jpg" srcset="/p-1000.jpg 1000w" alt="">'
        "</picture>"
        '<img src="/after.png">'
    )
    found = find_images(html, BASE)
    assert [f.url for f in found] == [
        "https://news.example.com/p-2000.webp",
        "https://news.example.com/after.png",
    ]
    assert found[0].element == "source"


def test_video_sources_are_not_images() -> None:
    html = '<video poster="/poster.jpg"><source src="/clip.mp4" type="video/mp4"></video>'
    assert urls(html) == []


def test_noscript_fallbacks_are_found_and_repeats_listed_once() -> None:
    html = (
        f'<img src="{PLACEHOLDER}" data-src="/lazy.jpg">'
        '<noscript><img src="/lazy.jpg"></noscript>'
        '<noscript><img src="/only-here.jpg"></noscript>'
    )
    found = find_images(html, BASE)
    assert [(f.url, f.position, f.in_noscript) for f in found] == [
        ("https://news.example.com/lazy.jpg", 0, False),
        ("https://news.example.com/only-here.jpg", 1, True),
    ]


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("pic.png", "https://news.example.com/2024/05/pic.png"),
        ("../pic.png", "https://news.example.com/2024/pic.png"),
        ("/pic.png", "https://news.example.com/pic.png"),
        ("//cdn.example.net/pic.png", "https://cdn.example.net/pic.png"),
        ("http://other.example.org/pic.png", "http://other.example.org/pic.png"),
        ("  /pic.png\n ", "https://news.example.com/pic.png"),
        ("/a\nb.png", "https://news.example.com/ab.png"),
        ("pic.png?w=1&amp;h=2", "https://news.example.com/2024/05/pic.png?w=1&h=2"),
    ],
)
def test_relative_urls_resolve_against_the_article(src: str, expected: str) -> None:
    assert urls(f'<img src="{src}">') == [expected]


def test_base_href_in_the_body_wins() -> None:
    html = '<base href="https://static.example.com/assets/"><img src="x.png">'
    assert urls(html) == ["https://static.example.com/assets/x.png"]


@pytest.mark.parametrize(
    "src", ["ftp://example.com/a.png", "blob:https://x/1", "mailto:a@b.c", "http://"]
)
def test_unfetchable_urls_are_left_out(src: str) -> None:
    assert urls(f'<img src="{src}">') == []


def test_unusual_markup() -> None:
    html = (
        "<!-- <img src='/commented.png'> -->"
        "<script>document.write('<img src=\"/scripted.png\">')</script>"
        "<IMG SRC='/upper.png'>"
        "<img src=/unquoted.png>"
        '<img src="/self-closed.png"/>'
        "<img data-src='/single.png'>"
    )
    assert urls(html) == [
        "https://news.example.com/upper.png",
        "https://news.example.com/unquoted.png",
        "https://news.example.com/self-closed.png",
        "https://news.example.com/single.png",
    ]


@pytest.mark.parametrize("html", [None, "", "plain text", "<p>no images</p>", "<img>"])
def test_nothing_to_find(html: str | None) -> None:
    assert find_images(html, BASE) == []


@given(st.text(max_size=300))
def test_any_text_is_read_without_error(html: str) -> None:
    for found in find_images(html, BASE):
        assert found.url.startswith(("http://", "https://"))


@given(
    st.lists(
        st.sampled_from(
            [
                '<img src="/a.png">',
                '<img data-src="/b.png" src="data:,">',
                '<picture><source srcset="/c.webp 2x"><img src="/c.jpg"></picture>',
                "<noscript><img src='/d.png'></noscript>",
                "<p>text</p>",
                "<img src='/a.png'>",
            ]
        ),
        max_size=12,
    )
)
def test_urls_are_distinct_and_positions_consecutive(parts: list[str]) -> None:
    found = find_images("".join(parts), BASE)
    assert len({f.url for f in found}) == len(found)
    assert [f.position for f in found] == list(range(len(found)))


def test_file_urls_only_for_documents_read_from_disk() -> None:
    html = '<img src="cover.png"><img src="file:///etc/passwd">'
    from_disk = [f.url for f in find_images(html, "file:///srv/feeds/feed.xml")]
    assert from_disk == ["file:///srv/feeds/cover.png", "file:///etc/passwd"]
    from_web = [f.url for f in find_images(html, "https://example.com/feed.xml")]
    assert from_web == ["https://example.com/cover.png"]  # a web page never reads local files

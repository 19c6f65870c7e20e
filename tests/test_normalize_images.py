"""archiver.normalize.images: meaningful image URLs and the head image choice; fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archiver.items import MediaRef
from archiver.normalize.images import choose_head_image, is_meaningful_image_url

CDN = "https://img.36krcdn.com/20210402/v2_5b7db72ab3464b2f86e3c4ff166a252c_img_000"


@pytest.mark.parametrize(
    ("url", "meaningful"),
    [
        (CDN, True),
        ("https://example.com/images/photo.jpg", True),
        ("http://example.com/a.png?w=800&h=600", True),
        ("https://cdn.example.com/uploads/2021/04/keras.webp", True),
        # placeholders
        ("https://picsum.photos/400/300?random=5904", False),
        ("https://via.placeholder.com/300x200", False),
        ("https://placeholder.com/300", False),
        ("https://dummyimage.com/600x400/000/fff", False),
        ("https://placehold.co/600x400", False),
        ("https://example.com/images/placeholder.png", False),
        # a script's missing value
        ("https://www.jianshu.com/p/undefined", False),
        ("undefined", False),
        ("https://example.com/null", False),
        # pixels and beacons
        ("https://example.com/1x1.gif", False),
        ("https://example.com/pixel.gif", False),
        ("https://example.com/pixel?id=3", False),
        ("https://example.com/spacer.gif", False),
        ("https://example.com/a.gif?w=1&h=1", False),
        ("https://example.com/beacon/abc", False),
        ("https://feeds.feedburner.com/~r/Example/~4/abc", False),
        ("https://pixel.wp.com/g.gif?blog=1", False),
        ("https://stats.wordpress.com/b.gif", False),
        ("https://www.google-analytics.com/collect?v=1", False),
        # icons, avatars, emoji
        ("https://example.com/favicon.ico", False),
        ("https://example.com/apple-touch-icon.png", False),
        ("https://example.com/static/icons/share.png", False),
        ("https://secure.gravatar.com/avatar/abc?s=96", False),
        ("https://example.com/uploads/avatar/42.jpg", False),
        ("https://s.w.org/images/core/emoji/13.0.1/72x72/1f600.png", False),
        ("https://example.com/wp-includes/images/smilies/icon_smile.gif", False),
        # not absolute http(s)
        ("data:image/png;base64,iVBORw0KGgo=", False),
        ("/images/a.jpg", False),
        ("images/a.jpg", False),
        ("//cdn.example.com/a.jpg", False),
        ("ftp://example.com/a.jpg", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
        ("http://[::1/a.jpg", False),
    ],
)
def test_is_meaningful_image_url(url: str | None, meaningful: bool) -> None:
    assert is_meaningful_image_url(url) is meaningful


BODY = (
    '<p><img src="https://example.com/pixel.gif" width="1" height="1"></p>'
    '<p><img class="wp-smiley" src="https://example.com/smile.png"></p>'
    '<p><img src="data:image/gif;base64,R0lGOD" data-src="/uploads/real.jpg"></p>'
    '<p><img src="https://example.com/second.jpg"></p>'
)


def test_feed_media_comes_first() -> None:
    media = [
        MediaRef("https://example.com/audio.mp3", "enclosure", "audio/mpeg"),
        MediaRef("https://example.com/enclosure.jpg", "enclosure", "image/jpeg"),
        MediaRef("https://example.com/small.jpg", "media:content", "image/jpeg", width=140),
        MediaRef("https://example.com/large.jpg", "media:content", "image/jpeg", width=1024),
        MediaRef("https://example.com/thumb.jpg", "media:thumbnail"),
    ]
    head, thumbnail = choose_head_image(media=media, content_html=BODY, base_url=None)
    assert head == "https://example.com/large.jpg"
    assert thumbnail == "https://example.com/thumb.jpg"


def test_enclosure_and_json_images() -> None:
    enclosure = [MediaRef("https://example.com/e.jpg", "enclosure", "image/jpeg")]
    assert choose_head_image(media=enclosure, content_html=None, base_url=None) == (
        "https://example.com/e.jpg",
        "https://example.com/e.jpg",
    )
    json_image = [
        MediaRef("https://example.com/banner.jpg", "banner_image"),
        MediaRef("https://example.com/image.jpg", "image"),
    ]
    head, _ = choose_head_image(media=json_image, content_html=None, base_url=None)
    assert head == "https://example.com/image.jpg"
    audio_only = [MediaRef("https://example.com/a.mp3", "enclosure", "audio/mpeg")]
    assert choose_head_image(media=audio_only, content_html=None, base_url=None) == (None, None)


def test_og_image_before_the_body() -> None:
    head, thumbnail = choose_head_image(
        media=[], content_html=BODY, base_url="https://example.com/post/", og_image="/og.jpg"
    )
    assert (head, thumbnail) == ("https://example.com/og.jpg", "https://example.com/og.jpg")


def test_body_image_prefers_lazy_attributes_and_skips_junk() -> None:
    head, thumbnail = choose_head_image(
        media=[], content_html=BODY, base_url="https://example.com/post/1", og_image="undefined"
    )
    assert head == "https://example.com/uploads/real.jpg"
    assert thumbnail == head


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            f'<p><img data-img-size-val="1080,362" src="{CDN}" referrerpolicy="no-referrer"></p>',
            CDN,
        ),
        ('<img src="lazy.gif" data-original="/a.jpg">', "https://example.com/a.jpg"),
        ('<img srcset="/s.jpg 320w, /l.jpg 1024w, /m.jpg 640w">', "https://example.com/l.jpg"),
        (
            '<picture><source srcset="/p.webp 2x, /q.webp 1x"><img src="/f.jpg"></picture>',
            "https://example.com/p.webp",
        ),
        (
            '<img src="https://picsum.photos/400/300?random=1"><img src="/b.jpg">',
            "https://example.com/b.jpg",
        ),
        ('<img src="https://www.jianshu.com/p/undefined">', None),
        ('<img src="undefined">', None),
        ("<p>no images</p>", None),
        ("", None),
        (None, None),
    ],
)
def test_body_images(html: str | None, expected: str | None) -> None:
    head, _ = choose_head_image(media=[], content_html=html, base_url="https://example.com/x")
    assert head == expected


def test_relative_body_image_without_base_is_rejected() -> None:
    assert choose_head_image(media=[], content_html='<img src="/a.jpg">', base_url=None) == (
        None,
        None,
    )


ANY_TEXT = st.one_of(
    st.none(),
    st.text(),
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(
        st.one_of(
            st.sampled_from(
                [
                    '<img src="',
                    '" data-src="',
                    'srcset="',
                    " 2x, ",
                    '">',
                    "http://",
                    "https://a.com/",
                    "//",
                    "undefined",
                    "<picture><source ",
                    "\ud800",
                    "1x1",
                    "[",
                    "%",
                ]
            ),
            st.text(max_size=4),
        ),
        max_size=15,
    ).map("".join),
)
MEDIA = st.builds(
    MediaRef,
    url=st.text(max_size=30),
    role=st.sampled_from(["enclosure", "media:content", "media:thumbnail", "image", "x"]),
    media_type=st.one_of(st.none(), st.sampled_from(["image/jpeg", "audio/mpeg", ""])),
    width=st.one_of(st.none(), st.integers()),
)


@given(ANY_TEXT)
def test_is_meaningful_image_url_never_raises(url: str | None) -> None:
    assert is_meaningful_image_url(url) in {True, False}


@given(st.lists(MEDIA, max_size=4), ANY_TEXT, ANY_TEXT, ANY_TEXT)
def test_choose_head_image_never_raises(
    media: list[MediaRef], html: str | None, base: str | None, og: str | None
) -> None:
    head, thumbnail = choose_head_image(media=media, content_html=html, base_url=base, og_image=og)
    for url in (head, thumbnail):
        assert url is None or is_meaningful_image_url(url)
    if head is not None:
        assert thumbnail is not None


def test_file_urls_of_a_feed_read_from_disk_are_images() -> None:
    feed = "file:///srv/feeds/sample-feed.xml"
    assert choose_head_image(media=[], content_html='<img src="cover.png">', base_url=feed) == (
        "file:///srv/feeds/cover.png",
        "file:///srv/feeds/cover.png",
    )

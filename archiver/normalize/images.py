"""Choosing an article's head image and thumbnail, and telling real images from junk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from archiver.items import MediaRef
from archiver.normalize._html import Document, ImageTag, read_html
from archiver.normalize._safe import never_raises, scrub

# Services that serve stand-in pictures: never an article's own image.
PLACEHOLDER_HOSTS = (
    "picsum.photos",
    "placeholder.com",  # also via.placeholder.com
    "placehold.it",
    "placehold.co",
    "dummyimage.com",
    "placekitten.com",
    "placebear.com",
    "placeimg.com",
    "lorempixel.com",
    "loremflickr.com",
    "fakeimg.pl",
    "source.unsplash.com",  # /random
)
# Hosts whose images are analytics beacons or avatars.
TRACKER_HOSTS = (
    "stats.wordpress.com",
    "pixel.wp.com",
    "pixel.quantserve.com",
    "google-analytics.com",
    "doubleclick.net",
    "feedsportal.com",
    "gravatar.com",
    "s.w.org",  # WordPress emoji
    "twemoji.maxcdn.com",
    "hm.baidu.com",
    "cnzz.com",
)
# Path patterns of tracking pixels, spacers, icons, avatars, emoji and lazy-load stand-ins.
_JUNK_PATH = re.compile(
    r"(?<![0-9])1x1(?![0-9])|/pixel(?:[./?_-]|$)|pixel\.(?:gif|png)|spacer\.gif|blank\.(?:gif|png)"
    r"|clear\.gif|transparent\.(?:gif|png)|/beacon|beacon\.|/track(?:ing)?/|/~r/|/~ff/|/b/ss/"
    r"|/open\.gif|favicon|apple-touch-icon|/icons?/|[/_-]icon[._-]|avatar|/emoji|emoji/"
    r"|/smilies/|twemoji|placeholder|lazyload|lazy[-_]?load|/loading\.(?:gif|svg|png)"
    r"|spinner\.(?:gif|svg)|grey\.gif|gray\.gif",
    re.IGNORECASE,
)
_ONE_PIXEL_QUERY = re.compile(r"(?:^|&)(?:w|width)=1&(?:h|height)=1(?:&|$)", re.IGNORECASE)
_MISSING_VALUES = frozenset(("undefined", "null", "none", "nan", "[object object]", "false"))
_IMAGE_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|bmp|svg|heic|jfif)$", re.I)

# Attributes lazy-loading scripts keep the real image in, best first; ``src`` then often holds
# a placeholder.
LAZY_ATTRIBUTES = (
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-actualsrc",
    "data-original-src",
    "data-lazyload",
    "data-lazy",
    "data-echo",
    "data-url",
    "data-hi-res-src",
    "data-full-src",
)
_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset", "srcset")
# Feed media roles, best first (Media RSS, RSS enclosure, JSON Feed); og:image comes after.
_MEDIA_ROLES = ("media:content", "enclosure", "image", "banner_image", "attachment", "og:image")


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        _ = parts.hostname, parts.port  # both check the authority
    except ValueError:  # "http://[::1", a port out of range
        return None
    return parts


def _host_in(host: str, hosts: Sequence[str]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


@never_raises(lambda url: False)
def is_meaningful_image_url(url: str | None) -> bool:
    """Whether ``url`` is an absolute http(s) (or file) image worth keeping as a picture.

    False for tracking pixels (``1x1``, ``/pixel``, ``spacer.gif``, beacons, analytics
    hosts), icons, avatars and emoji, ``data:`` URIs, placeholder services (``picsum.photos``,
    ``placeholder.com``, ``via.placeholder.com``, ``dummyimage.com``...), relative URLs, and
    ``undefined`` (alone or as a path segment, as in ``https://www.jianshu.com/p/undefined``).
    """
    if not isinstance(url, str):
        return False
    text = scrub(url).strip()
    if not text or len(text) > 8000:
        return False
    parts = _split(text)
    if parts is None or parts.scheme.lower() not in {"http", "https", "file"}:
        return False
    host = (parts.hostname or "").lower()
    # file:// images belong to a feed read from disk (Scrapy fetches them like any other).
    if parts.scheme.lower() != "file" and (not host or "." not in host):
        return False
    if _host_in(host, PLACEHOLDER_HOSTS) or _host_in(host, TRACKER_HOSTS):
        return False
    path = unquote(parts.path)
    segments = {segment.lower() for segment in path.split("/")}
    if segments & _MISSING_VALUES:
        return False
    return not (_JUNK_PATH.search(path) or _ONE_PIXEL_QUERY.search(parts.query))


def _absolute(url: str | None, base_url: str | None) -> str | None:
    """``url`` made absolute against ``base_url`` (spaces trimmed), or None if it cannot be."""
    if not isinstance(url, str):
        return None
    text = scrub(url).strip()
    if not text or text.lower() in _MISSING_VALUES:
        return None
    base = scrub(base_url).strip() if isinstance(base_url, str) else ""
    if text.startswith("//"):
        scheme = "http" if base.lower().startswith("http:") else "https"
        return f"{scheme}:{text}"
    if re.match(r"(?i)file:", text) and not base.lower().startswith("file:"):
        return None  # a document of the web never names a local file (a feed on disk may)
    if re.match(r"(?i)(https?|file)://", text):
        return text
    if re.match(r"(?i)(https?|file)://", base) and _split(base) is not None:
        try:
            return urljoin(base, text)
        except ValueError:
            return None
    return None


def _largest_in_srcset(srcset: str) -> str | None:
    """The candidate with the largest width or density in a ``srcset``."""
    best: tuple[float, str] | None = None
    for candidate in re.split(r",\s+|,(?=\S+\s+\d)", srcset):
        fields = candidate.strip().split()
        if not fields:
            continue
        size = 1.0
        if len(fields) > 1 and re.fullmatch(r"\d+(?:\.\d+)?[wx]", fields[1]):
            size = float(fields[1][:-1])
        if best is None or size > best[0]:
            best = (size, fields[0])
    return best[1] if best else None


def _is_decoration(image: ImageTag) -> bool:
    """An <img> that says of itself it is a pixel, an emoji or an icon."""
    attrs = image.attrs
    if attrs.get("width", "").strip() in {"0", "1"} or attrs.get("height", "").strip() in {
        "0",
        "1",
    }:
        return True
    classes = attrs.get("class", "").lower()
    return bool(re.search(r"emoji|wp-smiley|avatar|icon|tracking|pixel", classes))


def body_image_urls(content_html: str | Document | None, base_url: str | None) -> list[str]:
    """The absolute URLs of the body's meaningful images, in document order, no repeats.

    Each image's real address is taken from lazy-loading attributes (``data-src``...) before
    ``src`` (which then often holds a placeholder), then from ``srcset``.
    """
    urls: list[str] = []
    for image in read_html(content_html).images:
        if image.tag == "source" and not any(a in image.attrs for a in _SRCSET_ATTRIBUTES):
            continue
        if _is_decoration(image):
            continue
        candidates = [image.attrs.get(name) for name in LAZY_ATTRIBUTES]
        candidates += [image.attrs.get("src"), image.attrs.get("href")]
        candidates += [
            _largest_in_srcset(image.attrs[name])
            for name in _SRCSET_ATTRIBUTES
            if image.attrs.get(name)
        ]
        for candidate in candidates:
            absolute = _absolute(candidate, base_url)
            if absolute and is_meaningful_image_url(absolute):
                if absolute not in urls:
                    urls.append(absolute)
                break
    return urls


def _is_image_media(ref: MediaRef) -> bool:
    media_type = (ref.media_type or "").lower()
    if media_type:
        return media_type.startswith("image/") or media_type == "image"
    if ref.role in {"image", "banner_image", "og:image"}:
        return True
    parts = _split(ref.url) if isinstance(ref.url, str) else None
    path = parts.path if parts else ""
    # media:content without a type is usually the article's picture; accept unless the
    # address says it is something else.
    return ref.role == "media:content" and (
        bool(_IMAGE_EXTENSION.search(path)) or "." not in path.rsplit("/", 1)[-1]
    )


def _best_media(
    media: Sequence[MediaRef], roles: Sequence[str], base_url: str | None
) -> str | None:
    """The first meaningful image among ``media`` by role rank; the widest within a role."""
    for role in roles:
        best: tuple[int, str] | None = None
        for ref in media:
            if not isinstance(ref, MediaRef) or ref.role != role:
                continue
            if role != "media:thumbnail" and not _is_image_media(ref):
                continue
            absolute = _absolute(ref.url, base_url)
            if not absolute or not is_meaningful_image_url(absolute):
                continue
            width = ref.width if isinstance(ref.width, int) else 0
            if best is None or width > best[0]:
                best = (width, absolute)
        if best is not None:
            return best[1]
    return None


@never_raises(lambda **_: (None, None))
def choose_head_image(
    *,
    media: Sequence[MediaRef],
    content_html: str | Document | None,
    base_url: str | None,
    og_image: str | None = None,
) -> tuple[str | None, str | None]:
    """``(headimg, thumbnail)`` for an article; either may be None.

    The head image is the first meaningful one of: the feed's media (``media:content`` image,
    ``enclosure`` of an ``image/*`` type, JSON Feed ``image`` / ``banner_image``, image
    attachments; the widest when a role has several), ``og_image``, then the body's first
    image (lazy-loading attributes before ``src``). The thumbnail is the feed's
    ``media:thumbnail`` when there is one, else the head image. Both are absolute (resolved
    against ``base_url``) and never a placeholder, pixel or ``undefined``; a ``file:`` image
    only for a document read from disk (``base_url`` a ``file:`` URL).
    """
    media = [ref for ref in media if isinstance(ref, MediaRef)] if media else []
    head = _best_media(media, _MEDIA_ROLES, base_url)
    if head is None:
        og = _absolute(og_image, base_url)
        if og and is_meaningful_image_url(og):
            head = og
    if head is None:
        head = next(iter(body_image_urls(content_html, base_url)), None)
    thumbnail = _best_media(media, ("media:thumbnail",), base_url) or head
    return head, thumbnail

"""Choosing an article's head image and thumbnail, and telling real images from junk."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urljoin, urlsplit

from archiver.items import MediaRef

_PLACEHOLDER_HOSTS = ("picsum.photos", "placeholder.com", "via.placeholder.com", "dummyimage.com")
_JUNK = re.compile(r"1x1|/pixel|spacer\.gif|beacon|favicon|avatar|emoji|/undefined$", re.I)


def is_meaningful_image_url(url: str | None) -> bool:
    """Whether ``url`` is an absolute image worth showing (not a pixel, icon or placeholder)."""
    if not isinstance(url, str):
        return False
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if any(host == h or host.endswith("." + h) for h in _PLACEHOLDER_HOSTS):
        return False
    return not _JUNK.search(url)


def choose_head_image(
    *,
    media: Sequence[MediaRef],
    content_html: str | None,
    base_url: str | None,
    og_image: str | None = None,
) -> tuple[str | None, str | None]:
    """(head image, thumbnail): feed media, then og:image, then the first real body image."""
    head: str | None = None
    for ref in media:
        if ref.role == "media:thumbnail":
            continue
        if is_meaningful_image_url(ref.url):
            head = ref.url
            break
    if head is None and is_meaningful_image_url(og_image):
        head = og_image
    if head is None and isinstance(content_html, str):
        for src in re.findall(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", content_html, re.I):
            absolute = urljoin(base_url or "", src)
            if is_meaningful_image_url(absolute):
                head = absolute
                break
    thumbnail = next(
        (r.url for r in media if r.role == "media:thumbnail" and is_meaningful_image_url(r.url)),
        head,
    )
    return head, thumbnail

"""Which images of an article are archived: the body's, then head image, thumbnail and media."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from archiver.items import ArticleItem, ImageRef, MediaRef
from archiver.media._markup import absolute_http_url
from archiver.media.discover import find_images

MAX_URL_LENGTH = 4096
"""Longest image URL listed (the archive's ``images.url`` column)."""

_NOT_IMAGE_TYPES = ("audio/", "video/", "text/", "application/")


def article_images(item: ArticleItem) -> list[ImageRef]:
    """The images ``item`` shows: the body's in order, then head image, thumbnail, media.

    Body images are distinct by URL; the head image, thumbnail and image media follow
    with their roles, even when the body shows them too. Inline ``data:`` images have
    nothing to fetch and are not listed, nor are URLs longer than the archive keeps.
    A URL that is not http(s) is listed ``skipped``; every other ref is ``pending``.
    """
    refs: list[ImageRef] = []
    for found in find_images(item.content_html, item.base_url or item.url):
        if len(found.url) <= MAX_URL_LENGTH:
            refs.append(ImageRef(url=found.url, src=found.src, position=len(refs)))
    extras: list[tuple[str, str]] = []
    if item.headimg:
        extras.append((item.headimg, "headimg"))
    if item.thumbnail:
        extras.append((item.thumbnail, "thumbnail"))
    extras.extend((ref.url, "media") for ref in item.media if is_image_media(ref))
    seen: set[str] = set()
    for written, role in extras:
        url = absolute_http_url(written, item.base_url or item.url)
        key = url or written.strip()
        if key in seen or key.lower().startswith("data:") or len(key) > MAX_URL_LENGTH:
            continue
        seen.add(key)
        ref = ImageRef(url=key, src=written, position=len(refs), role=role)
        if url is None:
            ref.status, ref.error = "skipped", "not an http(s) URL"
        refs.append(ref)
    return refs


def is_image_media(ref: MediaRef) -> bool:
    """Whether a feed's media reference is an image (podcast audio and video are not)."""
    declared = (ref.media_type or "").lower()
    if declared:
        return declared.startswith("image/")
    guessed, _ = mimetypes.guess_type(urlsplit(ref.url).path)
    return not (guessed and guessed.startswith(_NOT_IMAGE_TYPES))


def pending_urls(images: Iterable[ImageRef]) -> list[str]:
    """The distinct URLs still to fetch, in order: one request each."""
    return list(dict.fromkeys(ref.url for ref in images if ref.status == "pending"))


def settle_pending(images: Iterable[ImageRef], outcomes: Mapping[str, ImageRef]) -> None:
    """Copy each pending ref's outcome from ``outcomes`` (by URL) onto it; a pending ref
    whose URL has no outcome was never fetched, and fails as ``not fetched``."""
    for ref in images:
        if ref.status != "pending":
            continue
        outcome = outcomes.get(ref.url) or ImageRef(
            url=ref.url, src=ref.src, position=0, status="failed", error="not fetched"
        )
        ref.sha256, ref.path, ref.media_type = outcome.sha256, outcome.path, outcome.media_type
        ref.width, ref.height, ref.size = outcome.width, outcome.height, outcome.size
        ref.status, ref.error = outcome.status, outcome.error
        ref.failures, ref.last_attempt = outcome.failures, outcome.last_attempt

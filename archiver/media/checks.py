"""Whether a downloaded image is one to keep: its status, its size, its bytes and its pixels."""

from __future__ import annotations

from archiver.errors import ArchiverError
from archiver.media.sniff import ImageInfo, describe_bytes, exceeds_pixel_limit, sniff_image

REFUSED_STATUSES = frozenset({401, 403})
"""Statuses after which another Referer strategy is worth trying."""


class ImageRejected(ArchiverError):
    """A downloaded image that is not kept; ``str()`` is the reason recorded on the item.

    ``reason`` is a short code (``http-404``, ``too-large``, ``not-an-image``,
    ``too-many-pixels``, ``unreadable``, ``empty``), followed by a detail after a colon.
    """

    def __init__(self, reason: str, detail: str = "", *, refused: bool = False) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.refused = refused
        """True when another Referer might get the image (403, an HTML page instead)."""


def check_image_download(
    status: int,
    body: bytes,
    content_type: str | None,
    *,
    max_bytes: int,
    max_pixels: int,
    refused_statuses: frozenset[int] = REFUSED_STATUSES,
) -> ImageInfo:
    """What a download holds, if it is an image to keep; else raise :class:`ImageRejected`.

    Rejected: an error status (``refused`` for ``refused_statuses``), an empty body, one of
    more than ``max_bytes`` (0: no limit), bytes that are no known image format whatever
    ``content_type`` says (``refused``: a hot-link page), a raster image whose size cannot
    be read from its header, and one with more than ``max_pixels`` pixels. Pure.
    """
    if status in refused_statuses:
        raise ImageRejected(f"http-{status}", "refused by the server", refused=True)
    if not 200 <= status < 300:
        raise ImageRejected(f"http-{status}")
    if not body:
        raise ImageRejected("empty", "the server sent no bytes")
    if max_bytes and len(body) > max_bytes:
        raise ImageRejected("too-large", f"{len(body)} bytes, limit {max_bytes}")
    image = sniff_image(body)
    if image is None:
        declared = content_type or "no type"
        raise ImageRejected(
            "not-an-image", f"{describe_bytes(body)} served as {declared}", refused=True
        )
    if exceeds_pixel_limit(image, max_pixels):
        raise ImageRejected(
            "too-many-pixels",
            f"{image.width}x{image.height} {image.media_type}, limit {max_pixels} pixels",
        )
    if image.pixels is None and not image.is_vector:
        raise ImageRejected("unreadable", f"{image.media_type} header is cut short or corrupt")
    return image

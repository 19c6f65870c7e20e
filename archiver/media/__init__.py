"""Images of archived articles: finding them in HTML, recognizing their bytes, rewriting bodies.

Everything here is pure (text or bytes in, values out); the downloading lives in
``pipelines/images.py``.
"""

from __future__ import annotations

from archiver.media.discover import FoundImage, find_images
from archiver.media.paths import image_path, thumbnail_path
from archiver.media.rewrite import local_image_map, rewrite_images
from archiver.media.sniff import ImageInfo, exceeds_pixel_limit, sniff_image

__all__ = [
    "FoundImage",
    "ImageInfo",
    "exceeds_pixel_limit",
    "find_images",
    "image_path",
    "local_image_map",
    "rewrite_images",
    "sniff_image",
    "thumbnail_path",
]

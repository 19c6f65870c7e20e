"""Where image files live below the media directory: named by the sha256 of their bytes."""

from __future__ import annotations

import re

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")


def image_path(sha256: str, extension: str) -> str:
    """``images/<aa>/<sha256>.<ext>``: the path of an image's file, relative to the media root.

    ``<aa>`` is the first two hex digits, so no directory grows past a few thousand files.
    The same bytes always get the same name, whatever URL they came from.
    """
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    extension = extension.lstrip(".").lower()
    if not _EXTENSION.fullmatch(extension):
        raise ValueError(f"not a file extension: {extension!r}")
    return f"images/{sha256[:2]}/{sha256}.{extension}"


def thumbnail_path(name: str, sha256: str) -> str:
    """``thumbs/<name>/<aa>/<sha256>.jpg``: a thumbnail of the image with that sha256."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
        raise ValueError(f"not a thumbnail name: {name!r}")
    return f"thumbs/{name}/{sha256[:2]}/{sha256}.jpg"

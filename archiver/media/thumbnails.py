"""Thumbnails of archived images: the sizes the settings ask for, and the JPEG of each."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from archiver.errors import ConfigurationError
from archiver.media.paths import thumbnail_path


def thumbnail_sizes(value: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``ARCHIVER_THUMBNAILS`` as ``{name: (width, height)}``; a ConfigurationError naming
    the setting when a name is not one :func:`thumbnail_path` takes or a size is no pair."""
    sizes: dict[str, tuple[int, int]] = {}
    for name, size in value.items():
        try:
            width, height = size
            sizes[str(name)] = (int(width), int(height))
            thumbnail_path(str(name), "0" * 64)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"ARCHIVER_THUMBNAILS: {name!r}: {size!r} is not a name and (width, height)"
            ) from exc
    return sizes


def make_thumbnail(pillow: Any, body: bytes, size: tuple[int, int]) -> bytes:
    """A JPEG no larger than ``size`` (never enlarged), transparency flattened on white.

    ``pillow`` is the ``PIL.Image`` module, passed in because Pillow is optional. CPU-bound:
    the images pipeline runs it in a thread.
    """
    with pillow.open(BytesIO(body)) as original:
        original.thumbnail(size)
        thumbnail = original
        if thumbnail.mode in ("RGBA", "LA", "P"):
            rgba = thumbnail.convert("RGBA")
            thumbnail = pillow.new("RGB", rgba.size, (255, 255, 255))
            thumbnail.paste(rgba, mask=rgba.getchannel("A"))
        elif thumbnail.mode != "RGB":
            thumbnail = thumbnail.convert("RGB")
        out = BytesIO()
        thumbnail.save(out, "JPEG", quality=85)
        return out.getvalue()

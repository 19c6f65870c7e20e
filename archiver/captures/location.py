"""Where the capture store is: ``ARCHIVER_CAPTURES_DIR``, else beside the media."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import ConfigurationError


def captures_location(settings: Mapping[str, Any] | Any) -> str:
    """``ARCHIVER_CAPTURES_DIR`` (a directory, or the URI of one of Scrapy's file stores:
    ``file://``, ``s3://``, ``gs://``, ``ftp://``), else ``captures`` beside the media
    directory (``./captures`` when the media live in a remote store)."""
    if configured := settings.get("ARCHIVER_CAPTURES_DIR"):
        return str(configured)
    media = str(settings.get("ARCHIVER_MEDIA_DIR") or "media")
    if "://" in media:
        return str(Path("captures").resolve())
    return str(Path(media).resolve().parent / "captures")


def is_remote(location: str) -> bool:
    """Whether *location* names a remote store (not a directory of this machine)."""
    return urlsplit(location).scheme not in ("", "file") and "://" in location


def local_directory(location: str) -> Path:
    """The directory the captures at *location* are read from on this machine."""
    if location.startswith("file://"):
        return Path(urlsplit(location).path)
    if is_remote(location):
        raise ConfigurationError(
            f"the captures are in {location}: read them from a local copy "
            "(ARCHIVER_CAPTURES_DIR=/path/to/copy)"
        )
    return Path(location)


def cli_captures_dir(media_dir: str | None) -> Path:
    """The capture directory for a command: the environment's ``ARCHIVER_CAPTURES_DIR``,
    else beside ``--media``."""
    return local_directory(
        captures_location(
            {
                "ARCHIVER_CAPTURES_DIR": os.environ.get("ARCHIVER_CAPTURES_DIR", ""),
                "ARCHIVER_MEDIA_DIR": media_dir or os.environ.get("ARCHIVER_MEDIA_DIR"),
            }
        )
    )

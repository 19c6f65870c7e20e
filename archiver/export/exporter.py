"""What a static-site format is: the :class:`Exporter` each one subclasses, and its images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.export.paths import PathAllocator


@dataclass
class ImagePlan:
    """How one article's images are shown in its exported file."""

    mapping: dict[str, str] = field(default_factory=dict)
    """Image URL (and ``src`` as written) -> what the exported body shows instead."""
    copies: list[tuple[Path, str]] = field(default_factory=list)
    """(file in the media directory, destination relative to the export directory)."""


class Exporter:
    """One static-site format. Subclasses say where an article goes and what it says."""

    name = ""

    def __init__(self, *, portable_names: bool = True) -> None:
        self.portable_names = portable_names
        self.paths = PathAllocator(portable=portable_names)

    def path_for(self, article: Mapping[str, Any]) -> str:
        """The article's file, relative to the export directory (``/`` separators)."""
        raise NotImplementedError

    def image_destination(self, article_path: str, image_path: str) -> tuple[str, str]:
        """Where an image file (its path in the media directory) is copied, relative to the
        export directory, and how the article's body refers to it."""
        raise NotImplementedError

    def render(self, article: Mapping[str, Any], body: str, images: ImagePlan) -> str:
        """The file's text; *body* is the article's HTML with its images already pointed at
        their copies (or as published, for remote images)."""
        raise NotImplementedError


def local_or_remote(url: str | None, plan: ImagePlan) -> str:
    """A head image or thumbnail URL, pointed at its copy when there is one."""
    if not url:
        return ""
    return plan.mapping.get(url, url)

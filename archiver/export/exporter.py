"""What a static-site format is: the :class:`Exporter` each one subclasses, and its images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.export.paths import PathAllocator, safe_relative_path


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
    POSTS_ROOT = ""
    """The directory an imported post's path is relative to (``raw.import.path``)."""
    ROUND_TRIP_SUFFIXES: frozenset[str] = frozenset((".md", ".markdown", ".html", ".htm"))
    """The kinds of file an imported post of this format goes back to as it was named."""

    def __init__(self, *, portable_names: bool = True) -> None:
        self.portable_names = portable_names
        self.paths = PathAllocator(portable=portable_names)

    def imported_path(self, article: Mapping[str, Any]) -> str | None:
        """The path a post imported from a site of this format came from, relative to the
        export directory, when it is safe (:func:`~archiver.export.paths.safe_relative_path`)
        and no older article has it; else None (the format's naming rule applies). Exporting
        into the site a post came from then leaves one file for it, not two."""
        raw = article.get("raw")
        imported = raw.get("import") if isinstance(raw, Mapping) else None
        if not isinstance(imported, Mapping) or imported.get("format") != self.name:
            return None
        path = imported.get("path")
        if not isinstance(path, str) or not safe_relative_path(path, self.ROUND_TRIP_SUFFIXES):
            return None
        full = f"{self.POSTS_ROOT}/{path}"
        return full if self.paths.reserve(full) else None

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

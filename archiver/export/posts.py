"""Reading post files: finding them, their front-matter (YAML or TOML), and the site they sit in.

A post is YAML front-matter between ``---`` lines (or TOML between ``+++``, Hugo's) and a
body; where it sits (below ``source/_posts``, ``_posts`` or ``content``) says whether it is a
Hexo, Jekyll or Hugo site's, and where its root-relative images are.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.errors import ArchiverError

POST_SUFFIXES = frozenset((".md", ".markdown", ".html", ".htm"))
SITE_MARKERS = (("source/_posts", "hexo"), ("_posts", "jekyll"), ("content", "hugo"))


class PostError(ArchiverError):
    """A file could not be read as a post."""


@dataclass
class Post:
    """One post file as read: front-matter values as written (dates stay strings), body."""

    path: Path
    relative: str
    """The path below ``source/_posts``, ``_posts`` or ``content`` (or the given directory)."""
    site_format: str
    """``hexo``, ``jekyll``, ``hugo``, or ``post`` when the layout says nothing."""
    site_root: Path | None
    """Where root-relative image paths (``/images/a.png``) are looked up."""
    front_matter: dict[str, Any]
    body: str
    front_matter_format: str = "yaml"


def find_posts(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """Every post file under *paths* (files or directories), sorted, each with the path it was
    found under."""
    for given in paths:
        base = Path(given)
        if base.is_file():
            yield base, base.parent
        elif base.is_dir():
            for found in _post_files(base):
                yield found, base
        else:
            raise PostError(f"{given}: no such file or directory")


def _post_files(directory: Path) -> Iterator[Path]:
    """The post files below *directory* in the order of ``sorted(directory.rglob("*"))``
    (each directory's entries sorted, depth first), without hidden files and directories
    and without following links to directories, as ``rglob`` does; one ``scandir`` per
    directory (sorting ``Path`` objects costs more than reading the tree)."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: os.path.normcase(entry.name))
    except PermissionError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _post_files(path)
        elif os.path.splitext(entry.name)[1].lower() in POST_SUFFIXES and entry.is_file():
            yield path


def read_post(path: Path, base: Path | None = None) -> Post:
    """Read *path* as a post; raises PostError when it has no front-matter."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PostError(f"{path}: {exc}") from exc
    front, body, kind = split_front_matter(text)
    if front is None:
        raise PostError(f"{path}: no front-matter")
    data = parse_front_matter(front, kind)
    relative, site_format, site_root = _locate(path, base)
    if site_format == "post" and kind == "toml":
        site_format = "hugo"
    return Post(path, relative, site_format, site_root, data, body, kind)


_YAML_FRONT = re.compile(r"\A\s*?(?:\n|^)---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_TOML_FRONT = re.compile(r"\A\s*?(?:\n|^)\+\+\+[ \t]*\n(.*?\n)?\+\+\+[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[str | None, str, str]:
    """(front-matter text, body, ``yaml``/``toml``); the body starts right after the closing
    line, byte for byte. Blank lines before the opening ``---`` are allowed (the seed's posts
    begin with one)."""
    for pattern, kind in ((_YAML_FRONT, "yaml"), (_TOML_FRONT, "toml")):
        match = pattern.match(text)
        if match:
            return match.group(1) or "", text[match.end() :], kind
    return None, text, ""


def parse_front_matter(text: str, kind: str = "yaml") -> dict[str, Any]:
    """The front-matter's values; dates stay the strings they were written as."""
    if kind == "toml":
        import tomllib

        try:
            table: dict[str, Any] = _stringify_dates(tomllib.loads(text))
            return table
        except tomllib.TOMLDecodeError as exc:
            raise PostError(f"front-matter is not TOML: {exc}") from exc
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        data: Any = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PostError(f"front-matter is not YAML: {_first_line(str(exc))}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PostError("front-matter is not a mapping")
    return {str(k): v for k, v in data.items()}


_LOADER: Any = None


def _loader() -> Any:
    """PyYAML's SafeLoader without the timestamp resolver: ``date: 2021-04-02 10:00`` stays
    the string it was written as (the raw value), and is read by our own date parser."""
    global _LOADER  # noqa: PLW0603 - built once, lazily, so importing this module needs no YAML
    if _LOADER is None:
        import yaml  # type: ignore[import-untyped,unused-ignore]

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class RawDateLoader(base):  # type: ignore[misc,valid-type]
            pass

        RawDateLoader.yaml_implicit_resolvers = {
            first: [
                (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"
            ]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
        _LOADER = RawDateLoader
    return _LOADER


def _stringify_dates(value: Any) -> Any:
    from datetime import date, time

    if isinstance(value, dict):
        return {str(k): _stringify_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _locate(path: Path, base: Path | None) -> tuple[str, str, Path | None]:
    parts = _resolve(path).as_posix()
    for marker, site_format in SITE_MARKERS:
        needle = f"/{marker}/"
        index = parts.rfind(needle)
        if index >= 0:
            root = Path(parts[:index])
            site_root = root / "source" if site_format == "hexo" else root
            if site_format == "hugo":
                site_root = root / "static"
            return parts[index + len(needle) :], site_format, site_root
    if base is not None:
        return _resolve(path).relative_to(_resolved_dir(str(base))).as_posix(), "post", base
    return path.name, "post", path.parent


def _resolve(path: Path) -> Path:
    """``path.resolve()``, with its directory resolved once for all the files in it (an
    import resolves every post's path: a system call per component otherwise)."""
    if path.is_symlink():
        return path.resolve()
    return _resolved_dir(str(path.parent)) / path.name


@functools.lru_cache(maxsize=4096)
def _resolved_dir(directory: str) -> Path:
    return Path(directory).resolve()


def forget_resolved_directories() -> None:
    """Drop the directories resolved so far: they may have moved since the last import."""
    _resolved_dir.cache_clear()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text

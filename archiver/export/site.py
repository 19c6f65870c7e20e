"""Writing an export: the formats by name, the loop, images, the manifest that makes it incremental.

Every exporter (:mod:`.hexo`, :mod:`.jekyll`, :mod:`.hugo`) turns one article into one file
at a deterministic path; this module writes only the files whose bytes changed since the last
export into the same directory (the manifest, ``.archiver-export.json``, remembers what was
written), copies images, and removes files of articles that are no longer exported, unless
someone edited them. Exporting an unchanged archive again writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from archiver.errors import ArchiverError, ConfigurationError
from archiver.export.exporter import Exporter, ImagePlan
from archiver.export.feeds import FEED_FORMATS, FILE_NAMES, FeedInfo, archive_images, feed_entry
from archiver.export.feeds import write_feed as _write_feed
from archiver.export.hexo import HexoExporter, check_timezone, site_timezone_of
from archiver.export.hugo import HugoExporter
from archiver.export.jekyll import JekyllExporter

logger = logging.getLogger(__name__)

MANIFEST = ".archiver-export.json"
ImageMode = Literal["copy", "remote"]


@dataclass
class ExportReport:
    """What an export did."""

    format: str
    directory: str
    articles: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    kept_edited: int = 0
    """Files of articles no longer exported that were left because someone edited them."""
    images_copied: int = 0
    images_missing: int = 0
    """Archived images whose file is not in the media directory (left remote)."""


EXPORTERS: dict[str, type[Exporter]] = {
    "hexo": HexoExporter,
    "jekyll": JekyllExporter,
    "hugo": HugoExporter,
}
"""The static-site formats by name; ``jsonl`` is written by :func:`export_site` itself."""


def exporter_for(fmt: str, *, portable_names: bool = True) -> Exporter:
    """A fresh exporter of the format *fmt* (a key of :data:`EXPORTERS`); raises
    ConfigurationError for any other name."""
    if fmt not in EXPORTERS:
        raise ConfigurationError(f"unknown export format {fmt!r}")
    return EXPORTERS[fmt](portable_names=portable_names)


def export_site(
    articles: Iterable[Mapping[str, Any]],
    directory: str | Path,
    fmt: str,
    *,
    images: ImageMode = "remote",
    media_dir: str | Path | None = None,
    portable_names: bool = True,
    site_timezone: str | None = None,
    sanitize: bool = True,
    base_url: str | None = None,
) -> ExportReport:
    """Write *articles* (as ``archive.articles.export`` yields them) into *directory* as a
    Hexo, Jekyll or Hugo site, as JSON Lines (``fmt="jsonl"``), or as one Atom or JSON Feed
    file (``atom``, ``jsonfeed``; *base_url* is where *directory* will be served from, which
    copied images need); incremental. Bodies are sanitized (:func:`rendered_body`) unless
    *sanitize* is false (``--as-published``: one's own imported posts back out byte for byte).

    Hexo only: *site_timezone* is the target site's ``timezone`` setting, else the one of
    ``directory/_config.yml`` (an existing Hexo site), else none (the seed's date form)."""
    root = Path(directory)
    if site_timezone is not None and fmt != "hexo":
        raise ConfigurationError("a site time zone applies to Hexo exports only")
    if fmt == "hexo":
        site_timezone = (
            check_timezone(site_timezone, "site time zone")
            if site_timezone
            else site_timezone_of(root)
        )
    root.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(root)
    report = ExportReport(format=fmt, directory=str(root))
    old = _read_manifest(root, fmt)
    new: dict[str, str] = {}
    if fmt == "jsonl":
        _export_jsonl(articles, root, old, new, report)
    elif fmt in FEED_FORMATS:
        _export_feed(
            articles, root, fmt, images, Path(media_dir or "media"), base_url, old, new, report
        )
    else:
        exporter = exporter_for(fmt, portable_names=portable_names)
        if isinstance(exporter, HexoExporter):
            exporter.site_timezone = site_timezone
        media = Path(media_dir) if media_dir else Path("media")
        for article in articles:
            report.articles += 1
            path = exporter.path_for(article)
            plan = (
                _plan_images(exporter, article, path, media, report)
                if images == "copy"
                else ImagePlan()
            )
            if sanitize:
                body, shown = rendered_body(article, plan.mapping), safe_links(article)
            else:
                body, shown = published_body(article, plan.mapping), article
            data = exporter.render(shown, body, plan).encode("utf-8")
            _put(root, path, data, old, new, report)
            for source, destination in plan.copies:
                _copy_image(root, source, destination, old, new, report)
    _remove_stale(root, old, new, report)
    _write_manifest(root, fmt, new)
    return report


# -- images ---------------------------------------------------------------------------------


def _plan_images(
    exporter: Exporter,
    article: Mapping[str, Any],
    article_path: str,
    media: Path,
    report: ExportReport,
) -> ImagePlan:
    plan = ImagePlan()
    for image in article.get("images") or []:
        if image.get("status") not in ("downloaded", "cached") or not image.get("path"):
            continue
        source = media / image["path"]
        if not source.is_file():
            report.images_missing += 1
            continue
        destination, reference = exporter.image_destination(article_path, image["path"])
        plan.copies.append((source, destination))
        for key in (image.get("url"), image.get("src")):
            if key:
                plan.mapping.setdefault(key, reference)
    return plan


# -- what a reader sees ----------------------------------------------------------------------

URL_FIELDS = ("headimg", "thumbnail")
"""Front-matter fields that a site's theme puts into ``src`` or ``href`` attributes."""


def rendered_body(article: Mapping[str, Any], mapping: Mapping[str, str] | None = None) -> str:
    """The one body every format writes: the published HTML (content, else summary) with its
    images pointed at their copies (*mapping*) and lazy images resolved (the rewrite runs
    only when there is one of either), then through :func:`archiver.render.sanitize_html`.
    The archive keeps the body as published; only what leaves is cleaned."""
    from archiver.media.rewrite import rewrite_images, shows_lazy_images
    from archiver.render import sanitize_html

    body = article.get("content_html") or article.get("summary_html") or ""
    if mapping or shows_lazy_images(body):  # the scan costs several times the sanitizer
        base_url = article.get("base_url") or article.get("url")
        body = rewrite_images(body, mapping or {}, base_url=base_url)
    return sanitize_html(body)


def published_body(article: Mapping[str, Any], mapping: Mapping[str, str]) -> str:
    """The body as published, only its copied images pointed at their copies."""
    body = article.get("content_html") or article.get("summary_html") or ""
    if not mapping:
        return str(body)
    from archiver.media.rewrite import rewrite_images

    return rewrite_images(body, mapping, base_url=article.get("url"))


def safe_links(article: Mapping[str, Any]) -> Mapping[str, Any]:
    """*article* with a head image or thumbnail that is not http(s) (or a path) left out:
    a theme writes them into attributes, where ``javascript:`` would run."""
    unsafe = {key: "" for key in URL_FIELDS if not _safe_url(article.get(key))}
    return {**article, **unsafe} if unsafe else article


def _safe_url(value: Any) -> bool:
    if not value:
        return True
    text = "".join(str(value).split()).lower()
    scheme = text.split(":", 1)[0] if ":" in text.split("/", 1)[0] else ""
    return scheme in ("", "http", "https")


def _sanitized_fields(article: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Lines' rendered fields: the bodies as every other output shows them."""
    from archiver.render import sanitize_html

    return {
        "content_html_sanitized": rendered_body(article) if article.get("content_html") else "",
        "summary_html_sanitized": sanitize_html(article.get("summary_html") or ""),
    }


def _copy_image(
    root: Path,
    source: Path,
    destination: str,
    old: Mapping[str, str],
    new: dict[str, str],
    report: ExportReport,
) -> None:
    if destination in new:
        return
    target = root / destination
    # Named by the sha256 of their bytes: a file that is there with the recorded size is it.
    digest = "file:" + str(source.stat().st_size)
    new[destination] = digest
    if old.get(destination) == digest and target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    report.images_copied += 1


# -- files and the manifest -----------------------------------------------------------------


def _put(
    root: Path,
    path: str,
    data: bytes,
    old: Mapping[str, str],
    new: dict[str, str],
    report: ExportReport,
) -> None:
    digest = hashlib.sha256(data).hexdigest()
    new[path] = digest
    target = root / path
    if old.get(path) == digest and target.is_file():
        report.unchanged += 1
        return
    _atomic_write(target, data)
    report.written += 1


TEMPORARY_PREFIX = ".export-"
"""The names of files being written (then renamed into place)."""


def _remove_unfinished(root: Path) -> None:
    """Remove what an export killed mid-write left: its temporary files (one export writes
    into a directory at a time, as its manifest assumes)."""
    for path in root.rglob(f"{TEMPORARY_PREFIX}*"):
        if path.is_file():
            logger.info("Removed %s, left by an export that was stopped", path)
            path.unlink(missing_ok=True)


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _export_jsonl(
    articles: Iterable[Mapping[str, Any]],
    root: Path,
    old: Mapping[str, str],
    new: dict[str, str],
    report: ExportReport,
) -> None:
    """``articles.jsonl``: one JSON object per article with every field, streamed."""
    path = "articles.jsonl"
    target = root / path
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(dir=root, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(handle, "wb") as stream:
            for article in articles:
                report.articles += 1
                row = {**article, **_sanitized_fields(article)}
                line = (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode()
                digest.update(line)
                stream.write(line)
        new[path] = digest.hexdigest()
        if old.get(path) == new[path] and target.is_file():
            report.unchanged += 1
            Path(temporary).unlink()
        else:
            os.replace(temporary, target)
            report.written += 1
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _export_feed(
    articles: Iterable[Mapping[str, Any]],
    root: Path,
    fmt: str,
    images: ImageMode,
    media: Path,
    base_url: str | None,
    old: Mapping[str, str],
    new: dict[str, str],
    report: ExportReport,
) -> None:
    """``feed.atom`` or ``feed.json``: every article whole, newest first; with ``--images
    copy`` the archived images copied to ``media/`` and linked at *base_url*."""
    if images == "copy" and not base_url:
        raise ConfigurationError(
            "--images copy with a feed needs --base-url (where DIR will be served from): "
            "a feed's images need absolute links"
        )
    base = (base_url or "").rstrip("/")
    entries = []
    for article in articles:
        report.articles += 1
        mapping: dict[str, str] = {}
        if images == "copy":
            for image in article.get("images") or []:
                path = image.get("path")
                if image.get("status") not in ("downloaded", "cached") or not path:
                    continue
                source = media / path
                if not source.is_file():
                    report.images_missing += 1
                    continue
                _copy_image(root, source, f"media/{path}", old, new, report)
            mapping = archive_images(article, f"{base}/media/", by="path")
        entries.append(feed_entry(article, mapping))
    entries.sort(key=lambda e: (e.published or e.updated or _OLDEST, e.id), reverse=True)
    name = FILE_NAMES[fmt]
    info = FeedInfo(
        title="Archive",
        feed_url=f"{base}/{name}" if base else name,
        home_url=f"{base}/" if base else "",
        description="Articles archived by feed-archiver",
    )
    _put(root, name, _write_feed(fmt, info, entries), old, new, report)


_OLDEST = datetime(1, 1, 1, tzinfo=UTC)


def _remove_stale(
    root: Path, old: Mapping[str, str], new: Mapping[str, str], report: ExportReport
) -> None:
    for path, digest in old.items():
        if path in new:
            continue
        target = root / path
        if not target.is_file():
            continue
        if digest.startswith("file:") or _file_digest(target) == digest:
            target.unlink()
            report.removed += 1
            _prune_empty_dirs(root, target.parent)
        else:
            report.kept_edited += 1
            logger.info("Kept %s: edited since it was exported", target)


def _prune_empty_dirs(root: Path, directory: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(root: Path, fmt: str) -> dict[str, str]:
    path = root / MANIFEST
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ArchiverError(f"cannot read {path}: {exc}") from exc
    if manifest.get("format") != fmt:
        raise ConfigurationError(
            f"{root} holds a {manifest.get('format')} export; export {fmt} to another directory"
        )
    files = manifest.get("files")
    return dict(files) if isinstance(files, dict) else {}


def _write_manifest(root: Path, fmt: str, files: Mapping[str, str]) -> None:
    manifest = {"format": fmt, "version": 1, "files": dict(sorted(files.items()))}
    data = (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    target = root / MANIFEST
    if target.is_file() and target.read_bytes() == data:
        return
    _atomic_write(target, data)

"""Importing existing Hexo, Jekyll and Hugo posts into the archive.

A post (YAML front-matter between ``---`` lines, or TOML between ``+++`` for Hugo; an HTML or
Markdown body) becomes an archived article of a source of kind ``import``: one source per
category path (``新媒体/36kr/资讯``), whose categories are the post's, so a Hexo export puts
the post back where it was. Values are kept as written beside their normalized form: the
date string (``Invalid Date`` included) in ``published_raw``, the title in ``title_raw``, the
author in ``authors_raw``. An author that is one of the post's categories (the seed's
``author: 36kr``) names the source, not a person: it becomes the source's title, and the
article has no authors. Images that are files beside the post or in the site are copied into
the media directory; remote ones are recorded, not fetched. Importing again is idempotent:
a post is identified by its path below ``_posts``/``content``.

This module runs the import: the files are read (:mod:`.posts`, :mod:`.post_items`,
:mod:`.post_images`) in worker processes when there are many, and written a batch at a time.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.export.post_images import post_images
from archiver.export.post_items import post_to_item
from archiver.export.posts import PostError, find_posts, forget_resolved_directories, read_post
from archiver.items import ArticleItem

if TYPE_CHECKING:
    from archiver.storage import Archive


@dataclass
class ImportReport:
    """What an import did: files read, articles by outcome, images, the files that failed."""

    files: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    images_copied: int = 0
    images_remote: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class _Parsed:
    """One file, read and normalized (in a worker process for big imports)."""

    path: str
    item: ArticleItem | None = None
    categories: list[str] = field(default_factory=list)
    label: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    copied: int = 0
    error: str | None = None


def _parse_file(path: Path, base: Path, timezone: str | None, media: Path) -> _Parsed:
    try:
        post = read_post(path, base)
        item, categories, label, raw = post_to_item(post, timezone=timezone)
    except PostError as exc:
        return _Parsed(str(path), error=str(exc))
    item.images, copied = post_images(post, item, media)
    return _Parsed(str(path), item, categories, label, raw, copied)


def _parse_files(
    files: Sequence[tuple[Path, Path]], timezone: str | None, media: Path
) -> list[_Parsed]:
    return [_parse_file(path, base, timezone, media) for path, base in files]


PARALLEL_FROM = 1000
"""Imports of at least this many files read and normalize them in worker processes."""

CHUNK = 64
"""Files a reader process is handed at a time."""

BATCH_SIZE = 5000
"""Articles written in one transaction by an import."""

BATCH_CHARS = 20_000_000
"""...or fewer, when their HTML and text come to this many characters (long posts)."""

MAX_READERS = 4
"""Reader processes by default (one per CPU up to this): the writer takes about as long
per post as a reader, so more would only wait."""

EAGER_BATCH = 1000
"""...or as few as this, when the readers are behind (at the start): the writer writes
what is read instead of waiting for a whole batch."""

READER_NICENESS = 10
"""How far a reader process stands back for the writer (``nice``)."""


def _parsed_files(
    files: list[tuple[Path, Path]],
    timezone: str | None,
    media: Path,
    workers: int,
    ahead: int = BATCH_SIZE,
) -> Iterator[_Parsed | None]:
    """The files read, in their order; by *workers* processes when there are many, which
    keep reading up to *ahead* files beyond the one the writer is at (while it writes a
    batch), so that memory stays bounded however many files there are. ``None`` says the
    readers are behind: what comes next is not read yet."""
    if workers < 1 or len(files) < PARALLEL_FROM:
        for path, base in files:
            yield _parse_file(path, base, timezone, media)
        return
    from collections import deque
    from concurrent.futures import Future

    from archiver.processes import WorkerProcesses

    chunks: Iterator[list[tuple[Path, Path]]] = (
        files[start : start + CHUNK] for start in range(0, len(files), CHUNK)
    )
    with WorkerProcesses(workers, _reader_priority) as pool:
        pending: deque[Future[list[_Parsed]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_files, chunk, timezone, media))
            if len(pending) * CHUNK >= ahead + workers * CHUNK:
                break
        while pending:
            if not pending[0].done():
                yield None
            done = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(_parse_files, following, timezone, media))
            yield from done


def _reader_priority() -> None:
    """A reader process yields the CPU to the writer: the writer is the one that cannot be
    split across processes, and readers sharing its core equally would slow it by a third."""
    if hasattr(os, "nice"):
        os.nice(READER_NICENESS)


def import_posts(
    archive: Archive,
    paths: Iterable[str | Path],
    *,
    media_dir: str | Path | None = None,
    timezone: str | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> ImportReport:
    """Import every post under *paths* into *archive*; a post that cannot be read is
    reported in ``failed`` and the others go on. Big imports read the files in *workers*
    processes (default: one per CPU, at most :data:`MAX_READERS`; 0 reads them in this
    process) while this one writes, up to *batch_size* articles a transaction."""
    report = ImportReport()
    media = Path(media_dir) if media_dir else Path("media")
    files = list(find_posts(paths))
    forget_resolved_directories()
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_READERS)
    writer = _Writer(archive, report, batch_size)
    with _collector_paused():
        for parsed in _parsed_files(files, timezone, media, workers, ahead=batch_size):
            if parsed is None:  # the readers are behind: write what is read, not wait
                if len(writer.batch) >= EAGER_BATCH:
                    writer.flush()
                continue
            report.files += 1
            if parsed.item is None:
                report.failed.append((parsed.path, parsed.error or "unreadable"))
                continue
            writer.add(parsed)
        writer.flush()
    return report


class _Writer:
    """The articles read, written a batch (one transaction) at a time."""

    def __init__(self, archive: Archive, report: ImportReport, batch_size: int) -> None:
        self.archive = archive
        self.report = report
        self.batch_size = batch_size
        self.sources: dict[str, int] = {}
        self.batch: list[tuple[ArticleItem, int, str]] = []
        self.extras: list[dict[str, Any]] = []
        self.chars = 0

    def add(self, parsed: _Parsed) -> None:
        """Add a post that was read (``parsed.item`` set); write the batch when it is full."""
        item = parsed.item
        assert item is not None
        report = self.report
        report.images_copied += parsed.copied
        report.images_remote += sum(1 for i in item.images if i.status == "skipped")
        source_id = self.sources.get(item.source_url)
        if source_id is None:
            record = self.archive.sources.ensure(
                item.source_url,
                kind="import",
                name=_source_name(self.archive, parsed.categories, item.source_url),
                categories=parsed.categories,
                title=parsed.label,
            )
            source_id = self.sources[item.source_url] = record.id
            report.sources.append(record.name)
        self.batch.append((item, source_id, item.key or item.url))
        self.extras.append(parsed.raw)
        self.chars += len(item.content_html or "") + len(item.content_text or "")
        if len(self.batch) >= self.batch_size or self.chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        extras = [{"import": e} for e in self.extras]
        changed = []
        for result in self.archive.bulk.store(self.batch, raw_extras=extras):
            setattr(self.report, result.outcome, getattr(self.report, result.outcome) + 1)
            if result.outcome != "unchanged":
                changed.append(result.article_id)
        self.archive.stories.link(changed)  # imported posts are linked with their copies too
        self.batch.clear()
        self.extras.clear()
        self.chars = 0
        gc.collect(1)  # the young generations, while the collector is paused


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the import, the young generations
    collected after each batch instead (``_Writer.flush``): with thousands of posts
    alive at once, its automatic full collections cost the writer a tenth of its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _source_name(archive: Archive, categories: Sequence[str], url: str) -> str | None:
    """``新媒体/36kr/资讯`` when no other source has that name; else let the archive pick."""
    name = "/".join(categories)[:190]
    if not name or any(s.name == name and s.url != url for s in archive.sources.all()):
        return None
    return name

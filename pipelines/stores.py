"""Media stores for the images pipeline: a directory written atomically, and thumbnails in any."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import uuid
from importlib import import_module
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro, ensure_awaitable

from archiver.media.paths import thumbnail_path
from archiver.media.thumbnails import make_thumbnail

if TYPE_CHECKING:
    from scrapy.pipelines.files import FilesStoreProtocol, StatInfo
    from scrapy.pipelines.media import MediaPipeline
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


INCOMING = ".incoming"
"""The store's own directory of files being written: ``<store>/.incoming/<pid>-<random>/``,
one per process, locked while it lives (:class:`IncomingDirectory`)."""
ABANDONED_AFTER = 60.0
"""Seconds after which an incoming directory without its lock file counts as abandoned (a
process killed between making it and locking it); a live one is locked within microseconds."""


class IncomingDirectory:
    """Where one process writes files before renaming them into the store.

    A process killed mid-write (SIGKILL, a power cut) leaves its temporary files here, never
    beside the store's ``<sha256>.<ext>`` files; the next store opened on the same directory
    removes every incoming directory whose lock no process holds (the kernel releases an
    ``flock`` when its holder dies, however it dies), and :meth:`close` removes its own. So
    after any number of kills and one crawl that ends, the store holds only finished files.
    Two crawls at once each keep their own directory and leave the other's alone. The
    directory is made at the first write, so a store that writes nothing leaves nothing.
    """

    def __init__(self, root: Path) -> None:
        self.parent = root / INCOMING
        self.path: Path | None = None
        self._lock_fd: int | None = None
        swept = sweep_abandoned(self.parent)
        if swept:
            logger.info("Removed %d unfinished file(s) a killed crawl left in %s", swept, root)

    def temporary_for(self, target: Path) -> Path:
        """A fresh name for the bytes that will become *target*."""
        if self.path is None:
            self.parent.mkdir(parents=True, exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.parent))
            # A raw descriptor: held for the process's life, closed by close() or the kernel.
            self._lock_fd = os.open(path / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
            _lock(self._lock_fd, blocking=True)
            self.path = path
        return self.path / f"{uuid.uuid4().hex}{target.suffix}.part"

    def close(self) -> None:
        """Remove this directory (and the parent when no one else uses it)."""
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        with contextlib.suppress(OSError):
            self.parent.rmdir()


def sweep_abandoned(parent: Path) -> int:
    """Remove the incoming directories under *parent* that no live process holds; how many
    files they held."""
    removed = 0
    for directory in parent.iterdir() if parent.is_dir() else ():
        if not directory.is_dir():
            continue
        try:
            descriptor = os.open(directory / ".lock", os.O_RDONLY)
        except FileNotFoundError:
            try:
                young = time.time() - directory.stat().st_mtime < ABANDONED_AFTER
            except OSError:
                continue
            if young:
                continue  # being made right now by another process
        else:
            try:
                if not _lock(descriptor, blocking=False):
                    continue  # a live crawl's
            finally:
                os.close(descriptor)
        removed += sum(1 for path in directory.iterdir() if path.name != ".lock")
        shutil.rmtree(directory, ignore_errors=True)
    with contextlib.suppress(OSError):
        parent.rmdir()  # only when empty
    return removed


def _lock(descriptor: int, *, blocking: bool) -> bool:
    """An exclusive ``flock`` on *descriptor*; whether it was taken. Without ``fcntl``
    (Windows) nothing is locked and only directories without a lock file are swept."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX has fcntl
        return blocking  # a lock that cannot be tested counts as held
    flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
    try:
        fcntl.flock(descriptor, flags)
    except BlockingIOError:
        return False
    return True


def write_atomically(path: Path, data: bytes, temporary: Path | None = None) -> None:
    """Write ``data`` to a temporary name (*temporary*, else beside ``path``), then rename it
    into place.

    A reader (or a crash) never sees half a file; the rename replaces any earlier copy, which
    for content-addressed names holds the same bytes.
    """
    temporary = temporary or path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class AtomicFSFilesStore:
    """A directory store like Scrapy's ``FSFilesStore``, but each file is written atomically
    (temporary name, then rename) and off the reactor thread.

    ``stat_file`` only checks that the file is there: names are sha256 digests of the
    content, so a file that exists is the right file and needs no checksum. Files being
    written live in the store's :class:`IncomingDirectory`, so a kill leaves none of them
    among the finished ones; :meth:`close` (the images pipeline's ``close_spider``) removes
    it.
    """

    def __init__(self, basedir: str | os.PathLike[str]) -> None:
        basedir = str(basedir)
        if "://" in basedir:
            basedir = basedir.split("://", 1)[1]
        self.basedir = basedir
        Path(basedir).mkdir(parents=True, exist_ok=True)
        self._directories: set[Path] = set()
        self.incoming = IncomingDirectory(Path(basedir))

    def persist_file(
        self,
        path: str,
        buf: BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Deferred[None]:
        """Write ``buf`` at ``path`` (slash-separated, relative to the store), in a thread."""
        return deferred_from_coro(run_in_thread(self.write, path, buf.getvalue()))

    def stat_file(self, path: str, info: MediaPipeline.SpiderInfo) -> StatInfo:
        """``{"last_modified": mtime}`` when ``path`` is in the store, else ``{}``."""
        try:
            modified = self.filesystem_path(path).stat().st_mtime
        except OSError:
            return {}
        return {"last_modified": modified}

    def filesystem_path(self, path: str) -> Path:
        """Where ``path`` (slash-separated, relative to the store) is on this machine."""
        return Path(self.basedir, *path.split("/"))

    def write(self, path: str, data: bytes) -> None:
        """Write ``data`` at ``path`` atomically, creating its directory (blocks)."""
        absolute_path = self.filesystem_path(path)
        if absolute_path.parent not in self._directories:
            absolute_path.parent.mkdir(parents=True, exist_ok=True)
            self._directories.add(absolute_path.parent)
        write_atomically(absolute_path, data, self.incoming.temporary_for(absolute_path))

    def close(self) -> None:
        """Remove the store's incoming directory (files being written: none by now)."""
        self.incoming.close()


class ThumbnailWriter:
    """Writes the thumbnails ``ARCHIVER_THUMBNAILS`` asks for beside each new image, in any
    store, when Pillow is installed (``thumbnails/<name>/<aa>/<sha256>.jpg``)."""

    def __init__(self, sizes: dict[str, tuple[int, int]]) -> None:
        self.sizes = sizes
        """``{name: (width, height)}``; empty when none are asked for or Pillow is missing."""
        self.pillow: Any = None
        """The ``PIL.Image`` module, imported only when thumbnails are asked for."""
        if sizes:
            try:
                self.pillow = import_module("PIL.Image")
            except ImportError:
                logger.warning(
                    "ARCHIVER_THUMBNAILS is set but Pillow is not installed "
                    "(pip install Pillow): images are archived without thumbnails"
                )
                self.sizes = {}

    async def write(
        self, store: FilesStoreProtocol, body: bytes, path: str, info: MediaPipeline.SpiderInfo
    ) -> None:
        """Make and store each thumbnail of the image stored at ``path`` (its sha256 in the
        name), each made in a thread. A thumbnail that fails is logged, never raised: it is
        a convenience, and the image is archived without it."""
        sha256 = Path(path).stem
        for name, size in self.sizes.items():
            try:
                data = await run_in_thread(make_thumbnail, self.pillow, body, size)
                await ensure_awaitable(
                    store.persist_file(
                        thumbnail_path(name, sha256),
                        BytesIO(data),
                        info,
                        headers={"Content-Type": "image/jpeg"},
                    )
                )
            except Exception as exc:  # a thumbnail is a convenience: never fail the image
                logger.warning("Thumbnail %r of %s not made: %s", name, path, exc)

"""What the images pipeline knows before it fetches: the archive's images, and this crawl's."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from scrapy.pipelines.media import FileInfo
from scrapy.utils.asyncio import is_asyncio_available, run_in_thread
from scrapy.utils.defer import ensure_awaitable

from archiver.errors import ArchiverError
from archiver.items import ImageRef
from archiver.media.referers import host_key, strategy_order
from archiver.media.retries import RetryPolicy

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from scrapy.pipelines.files import FilesStoreProtocol
    from scrapy.pipelines.media import MediaPipeline

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

CACHE_SECONDS = 600
"""How long the pipeline remembers what this crawl fetched (see :meth:`KnownImages.expire`)."""


class ImageFileInfo(FileInfo, total=False):
    """``FileInfo`` plus what the archive records of an image."""

    media_type: str | None
    width: int | None
    height: int | None
    size: int | None


class ArchivedImages(Protocol):
    """``archive.images``, as far as the pipeline asks it."""

    def known(self, url: str) -> ImageRef | None:
        """The image archived from ``url`` (status ``cached``), or its recorded failure
        (``failed``, with ``error``, ``failures`` and ``last_attempt``); None if never tried."""

    def known_many(self, urls: Sequence[str]) -> dict[str, ImageRef]:
        """What :meth:`known` tells of each of ``urls``, in one query; URLs never tried are
        left out."""


class HostPolicyBook(Protocol):
    """``archive.host_policies``: the Referer strategy that worked, per image host."""

    def all(self) -> dict[str, str]:
        """The Referer strategy that worked, per image host."""

    def save(self, host: str, strategy: str) -> None:
        """Remember the Referer strategy that worked for ``host``."""


class ImageArchive(Protocol):
    """What the pipeline asks of the archive (``archiver.storage.Archive``).

    Methods block; the pipeline calls them in a thread.
    """

    @property
    def images(self) -> ArchivedImages:
        """What was fetched of each image URL."""

    @property
    def host_policies(self) -> HostPolicyBook:
        """What each image host wants for a Referer."""

    def close(self) -> None:
        """Release the connections."""


class KnownImages:
    """The archive's images and host policies as the pipeline consults them, and what this
    crawl remembers of its own images.

    Every archive call runs in a thread, and a database error is logged once and taken as
    "not known": an image the archive cannot tell about is fetched. Without an archive
    (``archive`` None) nothing is known before the crawl, and Referer strategies are
    remembered for this crawl only.
    """

    def __init__(self) -> None:
        self.archive: ImageArchive | None = None
        self.host_policies: dict[str, str] = {}
        """The Referer strategy that worked, per host (:func:`archiver.media.referers.host_key`)."""
        self.stored: set[str] = set()
        """Paths known to be in the store during this crawl."""
        self.delivered: set[str] = set()
        """Image URLs already handed to an item during this crawl."""
        self.failed_before: dict[str, ImageRef] = {}
        """What the archive recorded of the images that failed before, by URL."""
        self.attempted: dict[str, datetime] = {}
        """When each image was last asked for in this crawl, by URL."""
        self.looked_up: dict[str, ImageRef | None] = {}
        """What the archive said of each image URL this crawl asked it about (None: never
        tried), read an article at a time (:meth:`look_up`)."""
        self.remembered_since = time.monotonic()
        """When the crawl's memory was last cleared (``time.monotonic()``)."""
        self._policies_loaded = False
        self._policies_lock: asyncio.Lock | None = None
        self._archive_warned = False

    def open(self, database_url: str | None) -> None:
        """Open the archive at ``database_url`` (blocks: called once, in a thread). Without
        one (no database), every image is fetched and Referer strategies are remembered for
        this crawl only."""
        from archiver.storage import Archive

        try:
            # The store pipeline creates and upgrades the schema; opening without migrating
            # avoids two pipelines migrating a new database at the same moment.
            self.archive = Archive(database_url, migrate=False)
        except ArchiverError as exc:
            logger.warning("Images: no archive (%s); every image will be fetched", exc)
            self.archive = None

    async def close(self) -> None:
        """Close the archive, if one is open."""
        if self.archive is not None:
            await run_in_thread(self.archive.close)
            self.archive = None

    async def look_up(self, urls: Sequence[str]) -> None:
        """Ask the archive, in one query, what it holds of those of ``urls`` (an article's
        images) not asked about yet in this crawl; :meth:`known_image` then answers from
        memory."""
        if self.archive is None:
            return
        wanted = [url for url in dict.fromkeys(urls) if url not in self.looked_up]
        if not wanted:
            return
        found = await self.ask(self.archive.images.known_many, wanted)
        if found is None:
            return  # the archive cannot be read: known_image asks (and fails) per image
        for url in wanted:
            self.looked_up[url] = found.get(url)

    async def known_image(self, url: str) -> ImageRef | None:
        """What the archive holds of ``url`` (see :meth:`ArchivedImages.known`), from
        what :meth:`look_up` read when it can; a recorded failure is also kept in
        :attr:`failed_before`."""
        if self.archive is None:
            return None
        if url in self.looked_up:
            known = self.looked_up[url]
        else:
            known = await self.ask(self.archive.images.known, url)
        if known is not None and known.status == "failed":
            self.failed_before[url] = known
        return known

    async def archived(
        self,
        url: str,
        store: FilesStoreProtocol,
        info: MediaPipeline.SpiderInfo,
        retry_policy: RetryPolicy,
    ) -> ImageFileInfo | None:
        """The result of an image that needs no request, else None: ``cached`` when the
        archive holds it and its file is still in ``store``, ``deferred`` when it failed
        before and ``retry_policy`` says its next attempt is not due."""
        known = await self.known_image(url)
        if known is not None and known.status == "failed":
            if retry_policy.is_due(known, datetime.now(UTC)):
                return None
            return ImageFileInfo(url=url, path="", checksum=None, status="deferred")
        if known is None or not known.path:
            return None
        if not await self.in_store(store, known.path, info):
            return None  # the file is gone from the media directory: fetch it again
        return ImageFileInfo(
            url=url,
            path=known.path,
            checksum=known.sha256,
            status="cached",
            media_type=known.media_type,
            width=known.width,
            height=known.height,
            size=known.size,
        )

    def outcome(self, url: str, result: ImageFileInfo) -> ImageRef:
        """The outcome of an image from its result: ``deferred`` with the failure the
        archive recorded, else what was stored (``downloaded`` only for the first article
        of this crawl that shows it; ``cached`` for the next)."""
        if result.get("status") == "deferred":
            return self._deferred(url)
        outcome = ImageRef(url=url, src=url, position=0)
        outcome.path = result["path"]
        outcome.sha256 = result.get("checksum")
        outcome.media_type = result.get("media_type")
        outcome.width = result.get("width")
        outcome.height = result.get("height")
        outcome.size = result.get("size")
        outcome.status = result["status"]
        if outcome.status == "downloaded" and url in self.delivered:
            outcome.status = "cached"  # another article of this crawl got it first
        self.delivered.add(url)
        return outcome

    def failure(self, url: str, error: str) -> ImageRef:
        """The outcome of an image that failed with ``error``: one failure more than the
        archive recorded, at the time this crawl asked for it (another article meeting the
        same failure does not push the back-off on)."""
        outcome = ImageRef(url=url, src=url, position=0, status="failed", error=error)
        before = self.failed_before.get(url)
        outcome.failures = (before.failures if before else 0) + 1
        outcome.last_attempt = self.attempted.get(url)
        return outcome

    def _deferred(self, url: str) -> ImageRef:
        """The outcome of an image left alone because its next attempt is not due: the
        failure the archive recorded, unchanged."""
        outcome = ImageRef(url=url, src=url, position=0, status="deferred")
        known = self.failed_before.get(url)
        if known is not None:
            outcome.error, outcome.failures = known.error, known.failures
            outcome.last_attempt = known.last_attempt
        return outcome

    # -- the store ---------------------------------------------------------------------------------

    async def in_store(
        self, store: FilesStoreProtocol, path: str, info: MediaPipeline.SpiderInfo
    ) -> bool:
        """Whether ``store`` has ``path``, asked once per crawl for a path that is there."""
        if path in self.stored:
            return True
        found = await _exists(store, path, info)
        if found:
            self.stored.add(path)
        return found

    async def claim(
        self, store: FilesStoreProtocol, path: str, info: MediaPipeline.SpiderInfo
    ) -> bool:
        """Whether ``path`` is stored already; if not, it is claimed for the caller to
        write (and to :meth:`release` if the write fails). Claimed before the store is
        asked, so the same bytes arriving from another URL meanwhile are not written twice."""
        if path in self.stored:
            return True
        self.stored.add(path)
        return await _exists(store, path, info)

    def release(self, path: str) -> None:
        """Give up the claim on ``path``: its write failed."""
        self.stored.discard(path)

    # -- Referer strategies ------------------------------------------------------------------------

    async def load_policies(self) -> None:
        """Read the host policies once, when the first image is about to be fetched.

        Not when the spider opens: on a new database the store pipeline is creating the
        tables then, and by the time articles arrive they are there.
        """
        if self._policies_loaded or self.archive is None:
            return
        if self._policies_lock is None and is_asyncio_available():
            self._policies_lock = asyncio.Lock()
        async with self._policies_lock or contextlib.nullcontext():
            if not self._policies_loaded:
                self._policies_loaded = True
                loaded = await self.ask(self.archive.host_policies.all) or {}
                self.host_policies = {**loaded, **self.host_policies}

    def known_strategy(self, url: str) -> str | None:
        """The Referer strategy that worked for the host of ``url``, if one is known."""
        return self.host_policies.get(host_key(url))

    def first_strategy(self, url: str) -> str:
        """The Referer strategy to try first for ``url``."""
        return strategy_order(self.known_strategy(url))[0]

    async def remember_strategy(self, url: str, strategy: str) -> None:
        """``strategy`` got the image at ``url``: remembered for its host (and saved in the
        archive) unless it is what the host is known to want (``none`` when unknown)."""
        host = host_key(url)
        if self.host_policies.get(host, "none") == strategy:
            return
        self.host_policies[host] = strategy
        logger.info("Images from %s need Referer strategy %r", host, strategy)
        if self.archive is not None:
            await self.ask(self.archive.host_policies.save, host, strategy)

    # -- this crawl's memory -----------------------------------------------------------------------

    def expire(self, info: MediaPipeline.SpiderInfo) -> None:
        """Forget this crawl's results every :data:`CACHE_SECONDS`: Scrapy keeps every
        image's result for the spider's life (``info.downloaded``), and an ``archiver
        worker``'s spider lives for days. Forgotten, an image is looked up in the archive
        again: archived, it costs no request; failed, it waits for its back-off."""
        if time.monotonic() - self.remembered_since < CACHE_SECONDS:
            return
        self.remembered_since = time.monotonic()
        info.downloaded.clear()
        for cache in (self.stored, self.delivered, self.failed_before, self.attempted):
            cache.clear()
        self.looked_up.clear()

    async def ask(self, method: Callable[..., _T], *args: Any) -> _T | None:
        """Call an archive method in a thread; a database error is logged, never raised."""
        try:
            return await run_in_thread(method, *args)
        except ArchiverError as exc:
            level = logging.DEBUG if self._archive_warned else logging.WARNING
            self._archive_warned = True
            logger.log(level, "Images: the archive cannot be read (%s)", exc)
            return None


async def _exists(store: FilesStoreProtocol, path: str, info: MediaPipeline.SpiderInfo) -> bool:
    """Whether ``store`` has ``path``. Stores differ in how they say no (S3 raises on a
    missing key), so any error counts as no: the worst outcome is one more upload."""
    try:
        return bool(await ensure_awaitable(store.stat_file(path, info)))
    except Exception as exc:
        logger.debug("Images: cannot stat %s in the store (%s)", path, exc)
        return False

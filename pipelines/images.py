"""The images pipeline: every image an article shows, fetched once and kept byte for byte.

Built on Scrapy's ``FilesPipeline`` (so its stores work: a directory, ``s3://``, ``gs://``,
``ftp://``), with three differences. Files are named by the sha256 of their bytes
(``images/<aa>/<sha256>.<ext>``, the extension from the sniffed type) instead of by their URL,
so the same bytes at two URLs are one file. Nothing is re-encoded: animated GIFs, transparent
PNGs and WebP stay as published. And every image is checked before it is kept: a size cap that
cuts the download off, content sniffing, a pixel-count limit against decompression bombs,
and a Referer strategy per host against hot-link protection.

A failed image is recorded on the item with its reason; the article always goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import import_module
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Protocol, Self, TypeVar, cast
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FilesStoreProtocol, StatInfo
from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline, _MediaRequestFiltered
from scrapy.utils.asyncio import is_asyncio_available, run_in_thread
from scrapy.utils.datatypes import SequenceExclude
from scrapy.utils.defer import deferred_from_coro, ensure_awaitable
from twisted.internet.defer import Deferred

from archiver.crawling.guard import LocalFileRefused, PrivateAddressRefused
from archiver.errors import ArchiverError, ConfigurationError
from archiver.items import ArticleItem, ImageRef, MediaRef
from archiver.media import exceeds_pixel_limit, find_images, image_path, sniff_image
from archiver.media._markup import absolute_http_url
from archiver.media.paths import thumbnail_path
from archiver.media.sniff import ImageInfo, describe_bytes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

META_KEY = "archiver_image"
"""Request meta key holding the :class:`ImageFetch` of an image request."""

MAX_URL_LENGTH = 4096
"""Longest image URL listed (the archive's ``images.url`` column)."""

CACHE_SECONDS = 600
"""How long the pipeline remembers what this crawl fetched (see ``_expire_caches``)."""

REFERER_STRATEGIES = ("none", "article", "root")
"""Referer headers to try against hot-link protection, in order: none at all, the article's
URL, the root of the image's own site. What worked is remembered per host."""


class ArchivedImages(Protocol):
    """``archive.images``, as far as the pipeline asks it."""

    def known(self, url: str) -> ImageRef | None:
        """The image archived from ``url`` (status ``cached``), or its recorded failure
        (``failed``, with ``error``, ``failures`` and ``last_attempt``); None if never tried."""


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


class ImageFailed(_MediaRequestFiltered):
    """An image that could not be archived; ``str()`` is the reason recorded on the item.

    It subclasses Scrapy's (private) filtered-request exception because Scrapy logs those at
    DEBUG without a traceback: a dead or refused image is an expected outcome, recorded on the
    item, not a crash. The pipeline logs one INFO line per failed image itself.

    ``reason`` is a short code (``http-404``, ``too-large``, ``not-an-image``,
    ``too-many-pixels``, ``unreadable``, ``timeout``, ``dns``, ``connection-refused``,
    ``redirect-loop``...), followed by a detail after a colon.
    """

    def __init__(self, reason: str, detail: str = "", *, refused: bool = False) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.refused = refused
        """True when another Referer might get the image (403, an HTML page instead)."""


class ImageFileInfo(FileInfo, total=False):
    """``FileInfo`` plus what the archive records of an image."""

    media_type: str | None
    width: int | None
    height: int | None
    size: int | None


@dataclass
class ImageFetch:
    """State of one image download, carried in ``request.meta[META_KEY]``."""

    url: str
    """The image URL as the article names it (``ImageRef.url``)."""
    article_url: str
    source_url: str | None = None
    """The article's source: its host is one the user asked for (``archiver.crawling.guard``)."""
    tried: list[str] = field(default_factory=list)
    """Referer strategies tried so far, in order."""
    referers: list[str | None] = field(default_factory=list)
    """The Referer header each of those sent."""

    @property
    def strategy(self) -> str | None:
        return self.tried[-1] if self.tried else None


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it into place.

    A reader (or a crash) never sees half a file; the rename replaces any earlier copy, which
    for content-addressed names holds the same bytes.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
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
    content, so a file that exists is the right file and needs no checksum.
    """

    def __init__(self, basedir: str | os.PathLike[str]) -> None:
        basedir = str(basedir)
        if "://" in basedir:
            basedir = basedir.split("://", 1)[1]
        self.basedir = basedir
        Path(basedir).mkdir(parents=True, exist_ok=True)
        self._directories: set[Path] = set()

    def persist_file(
        self,
        path: str,
        buf: BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Deferred[None]:
        return deferred_from_coro(run_in_thread(self._persist, path, buf.getvalue()))

    def stat_file(self, path: str, info: MediaPipeline.SpiderInfo) -> StatInfo:
        try:
            modified = self.filesystem_path(path).stat().st_mtime
        except OSError:
            return {}
        return {"last_modified": modified}

    def filesystem_path(self, path: str) -> Path:
        """Where ``path`` (slash-separated, relative to the store) is on this machine."""
        return Path(self.basedir, *path.split("/"))

    def _persist(self, path: str, data: bytes) -> None:
        absolute_path = self.filesystem_path(path)
        if absolute_path.parent not in self._directories:
            absolute_path.parent.mkdir(parents=True, exist_ok=True)
            self._directories.add(absolute_path.parent)
        _write_atomically(absolute_path, data)


class ArticleImagesPipeline(FilesPipeline):
    """Download the images of each ``ArticleItem`` and fill ``item.images``.

    Images come from the body (:func:`archiver.media.find_images`), then ``headimg``,
    ``thumbnail`` and the feed's image media. Each becomes an ``ImageRef``: ``downloaded``,
    ``cached`` (archived before, or the same bytes already stored), ``failed`` with its reason,
    ``deferred`` (failed before, and its next attempt is not due yet: see
    :func:`retry_after`) or ``skipped`` (not an http(s) URL). The item is never dropped.

    Settings (read with these defaults): ``ARCHIVER_IMAGES_ENABLED`` (True),
    ``ARCHIVER_MEDIA_DIR`` (``media``; else ``FILES_STORE``), ``ARCHIVER_IMAGE_MAX_BYTES``
    (20 MiB), ``ARCHIVER_IMAGE_MAX_PIXELS`` (100 million), ``ARCHIVER_IMAGE_TIMEOUT`` (30 s),
    ``ARCHIVER_IMAGE_RETRIES`` (2), ``ARCHIVER_IMAGE_MAX_REDIRECTS`` (5),
    ``ARCHIVER_IMAGE_RETRY_DELAY`` (1 hour), ``ARCHIVER_IMAGE_RETRY_MAX_DELAY`` (7 days),
    ``ARCHIVER_THUMBNAILS`` (``{}``), ``ARCHIVER_DATABASE_URL``.
    """

    MEDIA_NAME = "image"
    STORE_SCHEMES: ClassVar[dict[str, type[FilesStoreProtocol]]] = {
        **FilesPipeline.STORE_SCHEMES,
        "": AtomicFSFilesStore,
        "file": AtomicFSFilesStore,
    }
    MAX_BYTES = 20 * 1024 * 1024
    MAX_PIXELS = 100_000_000
    TIMEOUT = 30.0
    RETRIES = 2
    MAX_REDIRECTS = 5
    RETRY_DELAY = 3600.0
    RETRY_MAX_DELAY = 7 * 24 * 3600.0
    REFUSED_STATUSES: ClassVar[frozenset[int]] = frozenset({401, 403})
    """Statuses after which another Referer strategy is tried."""
    ACCEPT = "image/*,*/*;q=0.8"
    """Asks for the image as published: a browser's ``image/avif,image/webp`` makes some CDNs
    transcode."""

    def __init__(self, store_uri: str | os.PathLike[str], *, crawler: Crawler) -> None:
        super().__init__(store_uri, crawler=crawler)
        settings = crawler.settings
        self.max_bytes = settings.getint("ARCHIVER_IMAGE_MAX_BYTES", self.MAX_BYTES)
        self.max_pixels = settings.getint("ARCHIVER_IMAGE_MAX_PIXELS", self.MAX_PIXELS)
        self.timeout = settings.getfloat("ARCHIVER_IMAGE_TIMEOUT", self.TIMEOUT)
        self.retries = settings.getint("ARCHIVER_IMAGE_RETRIES", self.RETRIES)
        self.max_redirects = settings.getint("ARCHIVER_IMAGE_MAX_REDIRECTS", self.MAX_REDIRECTS)
        self.retry_delay = settings.getfloat("ARCHIVER_IMAGE_RETRY_DELAY", self.RETRY_DELAY)
        self.retry_max_delay = settings.getfloat(
            "ARCHIVER_IMAGE_RETRY_MAX_DELAY", self.RETRY_MAX_DELAY
        )
        self.thumbnails = _thumbnail_sizes(settings.getdict("ARCHIVER_THUMBNAILS"))
        self._pillow: Any = None
        if self.thumbnails:
            try:
                self._pillow = import_module("PIL.Image")
            except ImportError:
                logger.warning(
                    "ARCHIVER_THUMBNAILS is set but Pillow is not installed "
                    "(pip install Pillow): images are archived without thumbnails"
                )
                self.thumbnails = {}
        # Unlike FilesPipeline's default, follow redirects (image CDNs use them), bounded by
        # ``redirect_ttl`` on each request; 3xx are left to RedirectMiddleware.
        self.allow_redirects = True
        self.handle_httpstatus_list = SequenceExclude(range(300, 400))
        self._archive: ImageArchive | None = None
        self._policies: dict[str, str] = {}
        self._policies_loaded = False
        self._policies_lock: asyncio.Lock | None = None
        self._archive_warned = False
        self._stored: set[str] = set()
        """Paths known to be in the store during this crawl."""
        self._delivered: set[str] = set()
        """Image URLs already handed to an item during this crawl."""
        self._failed_before: dict[str, ImageRef] = {}
        """What the archive recorded of the images that failed before, by URL."""
        self._attempted: dict[str, datetime] = {}
        """When each image was last asked for in this crawl, by URL."""
        self._caches_since = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ARCHIVER_IMAGES_ENABLED", True):
            raise NotConfigured  # --no-images: off on purpose, so no message
        cls._update_stores(settings)
        store_uri = settings.get("ARCHIVER_MEDIA_DIR") or settings.get("FILES_STORE") or "media"
        return cls(store_uri, crawler=crawler)

    # -- lifecycle ---------------------------------------------------------------------------

    async def open_spider(self) -> None:  # type: ignore[override]  # Scrapy >= 2.14 accepts async, spider-less hooks
        super().open_spider()
        self._archive = await run_in_thread(self.open_archive)

    async def close_spider(self) -> None:
        if self._archive is not None:
            await run_in_thread(self._archive.close)
            self._archive = None

    def open_archive(self) -> ImageArchive | None:
        """The archive that knows the images already stored and what each host wants.

        Called once, in a thread. Returning None (no database) means every image is
        fetched and Referer strategies are remembered for this crawl only.
        """
        from archiver.storage import Archive

        try:
            # The store pipeline creates and upgrades the schema; opening without migrating
            # avoids two pipelines migrating a new database at the same moment.
            return Archive(self.crawler.settings.get("ARCHIVER_DATABASE_URL"), migrate=False)
        except ArchiverError as exc:
            logger.warning("Images: no archive (%s); every image will be fetched", exc)
            return None

    # -- which images ------------------------------------------------------------------------

    def images_of(self, item: ArticleItem) -> list[ImageRef]:
        """The images ``item`` shows: the body's in order, then head image, thumbnail, media.

        Body images are distinct by URL; the head image, thumbnail and image media follow
        with their roles, even when the body shows them too. Inline ``data:`` images have
        nothing to fetch and are not listed, nor are URLs longer than the archive keeps.
        """
        refs: list[ImageRef] = []
        for found in find_images(item.content_html, item.base_url or item.url):
            if len(found.url) <= MAX_URL_LENGTH:
                refs.append(ImageRef(url=found.url, src=found.src, position=len(refs)))
        extras: list[tuple[str, str]] = []
        if item.headimg:
            extras.append((item.headimg, "headimg"))
        if item.thumbnail:
            extras.append((item.thumbnail, "thumbnail"))
        extras.extend((ref.url, "media") for ref in item.media if _is_image_media(ref))
        seen: set[str] = set()
        for written, role in extras:
            url = absolute_http_url(written, item.base_url or item.url)
            key = url or written.strip()
            if key in seen or key.lower().startswith("data:") or len(key) > MAX_URL_LENGTH:
                continue
            seen.add(key)
            ref = ImageRef(url=key, src=written, position=len(refs), role=role)
            if url is None:
                ref.status, ref.error = "skipped", "not an http(s) URL"
            refs.append(ref)
        return refs

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        """One request per distinct image URL of the item (``item.images`` is filled here)."""
        if not isinstance(item, ArticleItem):
            return []
        item.images = self.images_of(item)
        self.crawler.stats.inc_value("archiver/images/found", len(item.images))
        requests: list[Request] = []
        for url in _pending_urls(item.images):
            fetch = ImageFetch(url=url, article_url=item.url, source_url=item.source_url)
            try:
                request = self._request(fetch)
            except ValueError as exc:
                for ref in item.images:
                    if ref.url == url:
                        ref.status, ref.error = "failed", f"bad-url: {exc}"
                continue
            requests.append(request)
        return requests

    # -- downloading -------------------------------------------------------------------------

    def media_to_download(
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> Deferred[FileInfo | None]:
        """An image the archive already holds (and whose file is still there) is not fetched;
        any other gets the Referer that its host wanted last time."""
        return deferred_from_coro(self._before_download(request, info))

    async def _before_download(
        self, request: Request, info: MediaPipeline.SpiderInfo
    ) -> FileInfo | None:
        fetch = request.meta.get(META_KEY)
        if not isinstance(fetch, ImageFetch):
            return None
        known = await self._archived(fetch, info)
        if known is None:
            self._attempted[fetch.url] = datetime.now(UTC)
            await self._load_policies()
            self._use_strategy(request, fetch, self._strategies(fetch.url)[0])
        return known

    async def _load_policies(self) -> None:
        """Read the host policies once, when the first image is about to be fetched.

        Not at ``open_spider``: on a new database the store pipeline is creating the tables
        then, and by the time articles arrive they are there.
        """
        if self._policies_loaded or self._archive is None:
            return
        if self._policies_lock is None and is_asyncio_available():
            self._policies_lock = asyncio.Lock()
        async with self._policies_lock or contextlib.nullcontext():
            if not self._policies_loaded:
                self._policies_loaded = True
                loaded = await self._ask(self._archive.host_policies.all) or {}
                self._policies = {**loaded, **self._policies}

    async def _archived(self, fetch: ImageFetch, info: MediaPipeline.SpiderInfo) -> FileInfo | None:
        if self._archive is None:
            return None
        known = await self._ask(self._archive.images.known, fetch.url)
        if known is not None and known.status == "failed":
            self._failed_before[fetch.url] = known
            since = known.last_attempt
            if since is not None and self.retry_after(known.failures, since) > datetime.now(UTC):
                self.inc_stats("deferred")
                return ImageFileInfo(url=fetch.url, path="", checksum=None, status="deferred")
            return None  # due: fetch it again
        if known is None or not known.path:
            return None
        if known.path not in self._stored:
            if not await self._exists(known.path, info):
                return None  # the file is gone from the media directory: fetch it again
            self._stored.add(known.path)
        self.inc_stats("cached")
        return ImageFileInfo(
            url=fetch.url,
            path=known.path,
            checksum=known.sha256,
            status="cached",
            media_type=known.media_type,
            width=known.width,
            height=known.height,
            size=known.size,
        )

    async def media_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> FileInfo:
        """Check the response, trying other Referers if refused, then store its bytes."""
        fetch = cast("ImageFetch", request.meta[META_KEY])
        while True:
            try:
                image = self.check_image(response)
                break
            except ImageFailed as failure:
                retry = self._next_request(fetch) if failure.refused else None
                if retry is None:
                    if failure.refused and len(fetch.tried) > 1:
                        tried = ", ".join(fetch.tried)
                        raise ImageFailed(
                            failure.reason, f"{failure.detail} (Referer tried: {tried})"
                        ) from None
                    raise
                logger.debug(
                    "Image %s refused (%s); trying Referer strategy %r",
                    fetch.url,
                    failure,
                    fetch.strategy,
                )
                request = retry
                response = await self.crawler.engine.download_async(request)
        await self._remember_strategy(fetch)

        path = self.file_path(request, response=response, info=info, item=item)
        body = response.body
        status = "cached"
        if not await self._already_stored(path, info):
            try:
                await ensure_awaitable(
                    self.store.persist_file(
                        path, BytesIO(body), info, headers={"Content-Type": image.media_type}
                    )
                )
            except Exception:
                self._stored.discard(path)
                raise
            status = "downloaded"
            self.crawler.stats.inc_value("archiver/images/bytes", len(body))
            if self.thumbnails and not image.is_vector:
                await self._store_thumbnails(body, path, info)
        self.inc_stats(status)
        return ImageFileInfo(
            url=fetch.url,
            path=path,
            checksum=_sha256_of(path),
            status=status,
            media_type=image.media_type,
            width=image.width,
            height=image.height,
            size=len(body),
        )

    def check_image(self, response: Response) -> ImageInfo:
        """What the response holds, if it is an image to keep; else raise :class:`ImageFailed`.

        Refused: an error status, an empty or oversized body, bytes that are no known image
        format whatever the ``Content-Type`` says, a raster image whose size cannot be read
        from its header, and one with more than ``ARCHIVER_IMAGE_MAX_PIXELS`` pixels.
        """
        status = response.status
        if status in self.REFUSED_STATUSES:
            raise ImageFailed(f"http-{status}", "refused by the server", refused=True)
        if not 200 <= status < 300:
            raise ImageFailed(f"http-{status}")
        body = response.body
        if not body:
            raise ImageFailed("empty", "the server sent no bytes")
        if self.max_bytes and len(body) > self.max_bytes:
            raise ImageFailed("too-large", f"{len(body)} bytes, limit {self.max_bytes}")
        image = sniff_image(body)
        if image is None:
            declared = (response.headers.get("Content-Type") or b"no type").decode("latin-1")
            raise ImageFailed(
                "not-an-image", f"{describe_bytes(body)} served as {declared}", refused=True
            )
        if exceeds_pixel_limit(image, self.max_pixels):
            raise ImageFailed(
                "too-many-pixels",
                f"{image.width}x{image.height} {image.media_type}, limit {self.max_pixels} pixels",
            )
        if image.pixels is None and not image.is_vector:
            raise ImageFailed("unreadable", f"{image.media_type} header is cut short or corrupt")
        return image

    def media_failed(
        self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo
    ) -> NoReturn:
        """Turn any download error into an :class:`ImageFailed` with a short reason."""
        error = self.failure_reason(failure.value, request)
        fetch = request.meta.get(META_KEY)
        self.inc_stats("failed")
        self.crawler.stats.inc_value(f"archiver/images/failed/{error.reason}")
        logger.info(
            "Image not archived: %s (%s), shown by <%s>",
            fetch.url if isinstance(fetch, ImageFetch) else request.url,
            error,
            fetch.article_url if isinstance(fetch, ImageFetch) else None,
        )
        raise error

    def failure_reason(
        self, exc: BaseException | None, request: Request | None = None
    ) -> ImageFailed:
        """The :class:`ImageFailed` that records ``exc``, a download or check error."""
        if isinstance(exc, ImageFailed):
            return exc
        text = str(exc) if exc is not None else ""
        if isinstance(exc, PrivateAddressRefused):
            return ImageFailed("private-address", text)
        if isinstance(exc, LocalFileRefused):
            return ImageFailed("local-file", text)
        if isinstance(exc, IgnoreRequest):
            if "max redirections" in text:
                return ImageFailed("redirect-loop", f"more than {self.max_redirects} redirects")
            return ImageFailed("filtered", text or "request ignored")
        names = {cls.__name__ for cls in type(exc).__mro__}
        cancelled = any(name.endswith("CancelledError") for name in names)
        if "max size" in text or (
            cancelled and request is not None and request.meta.get("download_maxsize")
        ):
            return ImageFailed("too-large", f"cut off after {self.max_bytes} bytes")
        for reason, classes in _FAILURE_CLASSES:
            if names & classes:
                return ImageFailed(reason, text)
        return ImageFailed("download-error", f"{type(exc).__name__}: {text}".rstrip(": "))

    # -- results -----------------------------------------------------------------------------

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        """Fill each pending ``ImageRef`` of the item from its URL's download result."""
        if not isinstance(item, ArticleItem):
            return item
        self._expire_caches(info)
        outcomes: dict[str, ImageRef] = {}
        for url, (ok, value) in zip(_pending_urls(item.images), results, strict=False):
            outcome = ImageRef(url=url, src=url, position=0)
            if ok and isinstance(value, dict) and value.get("status") == "deferred":
                outcome = self._deferred(url)
            elif ok and isinstance(value, dict):
                result = cast("ImageFileInfo", value)
                outcome.path = result["path"]
                outcome.sha256 = result.get("checksum")
                outcome.media_type = result.get("media_type")
                outcome.width = result.get("width")
                outcome.height = result.get("height")
                outcome.size = result.get("size")
                outcome.status = result["status"]
                if outcome.status == "downloaded" and url in self._delivered:
                    outcome.status = "cached"  # another article of this crawl got it first
                self._delivered.add(url)
            else:
                exc = getattr(value, "value", None)
                outcome.status = "failed"
                outcome.error = str(self.failure_reason(exc))
                before = self._failed_before.get(url)
                outcome.failures = (before.failures if before else 0) + 1
                outcome.last_attempt = self._attempted.get(url)
            outcomes[url] = outcome
        for ref in item.images:
            if ref.status != "pending":
                continue
            outcome = outcomes.get(ref.url) or ImageRef(
                url=ref.url, src=ref.src, position=0, status="failed", error="not fetched"
            )
            ref.sha256, ref.path, ref.media_type = outcome.sha256, outcome.path, outcome.media_type
            ref.width, ref.height, ref.size = outcome.width, outcome.height, outcome.size
            ref.status, ref.error = outcome.status, outcome.error
            ref.failures, ref.last_attempt = outcome.failures, outcome.last_attempt
        return item

    def _expire_caches(self, info: MediaPipeline.SpiderInfo) -> None:
        """Forget this crawl's results every :data:`CACHE_SECONDS`: Scrapy keeps every
        image's result for the spider's life (``info.downloaded``), and an ``archiver
        worker``'s spider lives for days. Forgotten, an image is looked up in the archive
        again: archived, it costs no request; failed, it waits for its back-off."""
        if time.monotonic() - self._caches_since < CACHE_SECONDS:
            return
        self._caches_since = time.monotonic()
        info.downloaded.clear()
        for cache in (self._stored, self._delivered, self._failed_before, self._attempted):
            cache.clear()

    def retry_after(self, failures: int, last_attempt: datetime) -> datetime:
        """When an image whose last attempt was the *failures*-th failure in a row may be
        fetched again: ``ARCHIVER_IMAGE_RETRY_DELAY`` after the first failure, twice that
        after the second, and so on, never more than ``ARCHIVER_IMAGE_RETRY_MAX_DELAY``.
        Worked out from the settings of the crawl that asks, so a changed delay applies
        to the images that failed before it."""
        exponent = min(max(failures, 1) - 1, 40)  # 2**40 delays are past any maximum
        delay = min(self.retry_delay * 2**exponent, self.retry_max_delay)
        return last_attempt + timedelta(seconds=max(delay, 0))

    def _deferred(self, url: str) -> ImageRef:
        """The outcome of an image left alone because its next attempt is not due."""
        outcome = ImageRef(url=url, src=url, position=0, status="deferred")
        known = self._failed_before.get(url)
        if known is not None:
            outcome.error, outcome.failures = known.error, known.failures
            outcome.last_attempt = known.last_attempt
        return outcome

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        """``images/<aa>/<sha256>.<ext>`` for the response's bytes.

        The name depends on the bytes, so it cannot be known before the download: without a
        response this raises ``ValueError``.
        """
        if response is None:
            raise ValueError("an image's path is the sha256 of its bytes: pass the response")
        image = sniff_image(response.body)
        if image is None:
            raise ValueError(f"not an image: {request.url}")
        return image_path(hashlib.sha256(response.body).hexdigest(), image.extension)

    def inc_stats(self, status: str) -> None:
        """Count images by outcome under ``archiver/images/<status>``."""
        self.crawler.stats.inc_value(f"archiver/images/{status}")

    # -- helpers -----------------------------------------------------------------------------

    def _request(self, fetch: ImageFetch) -> Request:
        """A request for the image, with the limits; no Referer strategy yet."""
        return Request(
            fetch.url,
            callback=NO_CALLBACK,
            headers={"Accept": self.ACCEPT},
            meta={
                META_KEY: fetch,
                "source_url": fetch.source_url,
                "download_maxsize": self.max_bytes,
                "download_timeout": self.timeout,
                "max_retry_times": self.retries,
                "redirect_ttl": self.max_redirects,
                "allow_offsite": True,
                # An image an article shows is part of the page, as for a browser; robots.txt
                # governs what is crawled, and fetching it per image host only adds requests.
                "dont_obey_robotstxt": True,
                "handle_httpstatus_list": self.handle_httpstatus_list,
            },
        )

    def _use_strategy(self, request: Request, fetch: ImageFetch, strategy: str) -> None:
        referer = self._referer(strategy, fetch)
        if referer is None:
            request.headers.pop("Referer", None)
            request.meta["referrer_policy"] = "no-referrer"  # none after redirects either
        else:
            request.headers["Referer"] = referer
            request.meta.pop("referrer_policy", None)
        fetch.tried.append(strategy)
        fetch.referers.append(referer)

    def _strategies(self, url: str) -> list[str]:
        known = self._policies.get(_host_key(url))
        first = [known] if known in REFERER_STRATEGIES else []
        return first + [s for s in REFERER_STRATEGIES if s != known]

    def _next_request(self, fetch: ImageFetch) -> Request | None:
        for strategy in self._strategies(fetch.url):
            if strategy in fetch.tried:
                continue
            if self._referer(strategy, fetch) in fetch.referers:
                fetch.tried.append(strategy)  # same header as one already refused
                fetch.referers.append(self._referer(strategy, fetch))
                continue
            request = self._request(fetch)
            self._use_strategy(request, fetch, strategy)
            return request
        return None

    @staticmethod
    def _referer(strategy: str, fetch: ImageFetch) -> str | None:
        if strategy == "article":
            return fetch.article_url
        if strategy == "root":
            parts = urlsplit(fetch.url)
            return f"{parts.scheme}://{parts.netloc}/"
        return None

    async def _remember_strategy(self, fetch: ImageFetch) -> None:
        strategy, host = fetch.strategy, _host_key(fetch.url)
        if strategy is None:
            return
        self.crawler.stats.inc_value(f"archiver/images/referer/{strategy}")
        if self._policies.get(host, "none") == strategy:
            return
        self._policies[host] = strategy
        logger.info("Images from %s need Referer strategy %r", host, strategy)
        if self._archive is not None:
            await self._ask(self._archive.host_policies.save, host, strategy)

    async def _already_stored(self, path: str, info: MediaPipeline.SpiderInfo) -> bool:
        if path in self._stored:
            return True
        # Marked before waiting, so the same bytes arriving from another URL meanwhile are
        # not written twice.
        self._stored.add(path)
        return await self._exists(path, info)

    async def _exists(self, path: str, info: MediaPipeline.SpiderInfo) -> bool:
        """Whether the store has ``path``. Stores differ in how they say no (S3 raises on a
        missing key), so any error counts as no: the worst outcome is one more upload."""
        try:
            return bool(await ensure_awaitable(self.store.stat_file(path, info)))
        except Exception as exc:
            logger.debug("Images: cannot stat %s in the store (%s)", path, exc)
            return False

    async def _store_thumbnails(
        self, body: bytes, path: str, info: MediaPipeline.SpiderInfo
    ) -> None:
        sha256 = _sha256_of(path)
        for name, size in self.thumbnails.items():
            try:
                data = await run_in_thread(_make_thumbnail, self._pillow, body, size)
                await ensure_awaitable(
                    self.store.persist_file(
                        thumbnail_path(name, sha256),
                        BytesIO(data),
                        info,
                        headers={"Content-Type": "image/jpeg"},
                    )
                )
            except Exception as exc:  # a thumbnail is a convenience: never fail the image
                logger.warning("Thumbnail %r of %s not made: %s", name, path, exc)

    async def _ask(self, method: Callable[..., _T], *args: Any) -> _T | None:
        """Call an archive method in a thread; a database error is logged, never raised."""
        try:
            return await run_in_thread(method, *args)
        except ArchiverError as exc:
            level = logging.DEBUG if self._archive_warned else logging.WARNING
            self._archive_warned = True
            logger.log(level, "Images: the archive cannot be read (%s)", exc)
            return None


_FAILURE_CLASSES: tuple[tuple[str, frozenset[str]], ...] = (
    ("timeout", frozenset({"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError"})),
    ("dns", frozenset({"CannotResolveHostError", "DNSLookupError"})),
    (
        "connection-refused",
        frozenset({"DownloadConnectionRefusedError", "ConnectionRefusedError"}),
    ),
    ("truncated", frozenset({"ResponseDataLossError", "_DataLoss"})),
    (
        "connection-lost",
        frozenset({"ConnectionLost", "ConnectionDone", "ResponseFailed", "ResponseNeverReceived"}),
    ),
)
"""Download errors (Scrapy's and Twisted's names for them) and the reason they record."""

_NOT_IMAGE_TYPES = ("audio/", "video/", "text/", "application/")


def _is_image_media(ref: MediaRef) -> bool:
    """Whether a feed's media reference is an image (podcast audio and video are not)."""
    declared = (ref.media_type or "").lower()
    if declared:
        return declared.startswith("image/")
    guessed, _ = mimetypes.guess_type(urlsplit(ref.url).path)
    return not (guessed and guessed.startswith(_NOT_IMAGE_TYPES))


def _pending_urls(images: Iterable[ImageRef]) -> list[str]:
    """The distinct URLs still to fetch, in order: one request each."""
    return list(dict.fromkeys(ref.url for ref in images if ref.status == "pending"))


def _host_key(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port in (None, default) else f"{host}:{port}"


def _sha256_of(path: str) -> str:
    return Path(path).stem


def _thumbnail_sizes(value: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """``ARCHIVER_THUMBNAILS`` as ``{name: (width, height)}``, or ConfigurationError."""
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


def _make_thumbnail(pillow: Any, body: bytes, size: tuple[int, int]) -> bytes:
    """A JPEG no larger than ``size``, transparency flattened on white (runs in a thread)."""
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

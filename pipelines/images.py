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

import hashlib
import logging
import os
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self, cast

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.pipelines.files import FilesPipeline, FilesStoreProtocol
from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline, _MediaRequestFiltered
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.datatypes import SequenceExclude
from scrapy.utils.defer import deferred_from_coro, ensure_awaitable

from archiver.crawling.failures import download_failure_reason
from archiver.items import ArticleItem, ImageRef
from archiver.media import image_path, sniff_image
from archiver.media.checks import REFUSED_STATUSES, ImageRejected, check_image_download
from archiver.media.referers import ImageFetch
from archiver.media.retries import RetryPolicy
from archiver.media.selection import article_images, pending_urls, settle_pending
from archiver.media.sniff import ImageInfo
from archiver.media.thumbnails import thumbnail_sizes
from pipelines.image_requests import META_KEY, ImageRequests
from pipelines.known_images import ImageFileInfo, KnownImages
from pipelines.stores import AtomicFSFilesStore, ThumbnailWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


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


class ArticleImagesPipeline(FilesPipeline):
    """Download the images of each ``ArticleItem`` and fill ``item.images``.

    Images come from the body, then ``headimg``, ``thumbnail`` and the feed's image media
    (:func:`archiver.media.selection.article_images`). Each becomes an ``ImageRef``:
    ``downloaded``, ``cached`` (archived before, or the same bytes already stored),
    ``failed`` with its reason, ``deferred`` (failed before, and its next attempt is not due
    yet: see :class:`archiver.media.retries.RetryPolicy`) or ``skipped`` (not an http(s)
    URL). The item is never dropped.

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
    REFUSED_STATUSES: ClassVar[frozenset[int]] = REFUSED_STATUSES
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
        self.retry_policy = RetryPolicy(
            delay=settings.getfloat("ARCHIVER_IMAGE_RETRY_DELAY", self.RETRY_DELAY),
            max_delay=settings.getfloat("ARCHIVER_IMAGE_RETRY_MAX_DELAY", self.RETRY_MAX_DELAY),
        )
        self.thumbnails = ThumbnailWriter(thumbnail_sizes(settings.getdict("ARCHIVER_THUMBNAILS")))
        # Unlike FilesPipeline's default, follow redirects (image CDNs use them), bounded by
        # ``redirect_ttl`` on each request; 3xx are left to RedirectMiddleware.
        self.allow_redirects = True
        self.handle_httpstatus_list = SequenceExclude(range(300, 400))
        self.requests = ImageRequests(
            accept=self.ACCEPT,
            max_bytes=self.max_bytes,
            timeout=self.timeout,
            retries=self.retries,
            max_redirects=self.max_redirects,
            handle_httpstatus_list=self.handle_httpstatus_list,
        )
        self.known_images = KnownImages()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("ARCHIVER_IMAGES_ENABLED", True):
            raise NotConfigured  # --no-images: off on purpose, so no message
        cls._update_stores(settings)
        store_uri = settings.get("ARCHIVER_MEDIA_DIR") or settings.get("FILES_STORE") or "media"
        return cls(store_uri, crawler=crawler)

    async def open_spider(self) -> None:  # type: ignore[override]  # Scrapy >= 2.14 accepts async, spider-less hooks
        super().open_spider()
        database_url = self.crawler.settings.get("ARCHIVER_DATABASE_URL")
        await run_in_thread(self.known_images.open, database_url)

    async def close_spider(self) -> None:
        await self.known_images.close()
        close_store = getattr(self.store, "close", None)
        if close_store is not None:
            close_store()  # its directory of unfinished files

    async def process_item(self, item: Any) -> Any:  # type: ignore[override]  # Scrapy >= 2.14 calls it spider-less
        """What the archive holds of the item's images is read in one query, then each
        image is fetched or not as :meth:`media_to_download` says."""
        if isinstance(item, ArticleItem):
            await self.known_images.look_up(pending_urls(article_images(item)))
        return await super().process_item(item)

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        """One request per distinct image URL of the item (``item.images`` is filled here)."""
        if not isinstance(item, ArticleItem):
            return []
        item.images = article_images(item)
        self.crawler.stats.inc_value("archiver/images/found", len(item.images))
        requests: list[Request] = []
        for url in pending_urls(item.images):
            fetch = ImageFetch(url=url, article_url=item.url, source_url=item.source_url)
            try:
                request = self.requests.request(fetch)
            except ValueError as exc:
                for ref in item.images:
                    if ref.url == url:
                        ref.status, ref.error = "failed", f"bad-url: {exc}"
                continue
            requests.append(request)
        return requests

    def media_to_download(
        self, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> Deferred[FileInfo | None]:
        """An image the archive already holds (and whose file is still there) is not fetched,
        nor one that failed before and is not due again; any other gets the Referer that its
        host wanted last time."""
        return deferred_from_coro(self._before_download(request, info))

    async def _before_download(
        self, request: Request, info: MediaPipeline.SpiderInfo
    ) -> FileInfo | None:
        fetch = request.meta.get(META_KEY)
        if not isinstance(fetch, ImageFetch):
            return None
        known = await self.known_images.archived(fetch.url, self.store, info, self.retry_policy)
        if known is not None:
            self.inc_stats(known["status"])
        else:
            self.known_images.attempted[fetch.url] = datetime.now(UTC)
            await self.known_images.load_policies()
            self.requests.use_strategy(request, fetch, self.known_images.first_strategy(fetch.url))
        return known

    async def media_downloaded(
        self,
        response: Response,
        request: Request,
        info: MediaPipeline.SpiderInfo,
        *,
        item: Any = None,
    ) -> FileInfo:
        """Check the response, trying other Referers if refused, then store its bytes.

        The check (sniffing the bytes) and the sha256 that names the file run in threads, not
        on the reactor thread: an image may be megabytes, and hashlib lets go of the GIL."""
        fetch = cast("ImageFetch", request.meta[META_KEY])
        while True:
            try:
                image = await run_in_thread(self.check_image, response)
                break
            except ImageFailed as failure:
                known = self.known_images.known_strategy(fetch.url)
                retry = self.requests.retry(fetch, known) if failure.refused else None
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
        if fetch.strategy is not None:
            self.crawler.stats.inc_value(f"archiver/images/referer/{fetch.strategy}")
            await self.known_images.remember_strategy(fetch.url, fetch.strategy)

        # named by the checked type and the bytes' sha256 (in a thread: megabytes, GIL let go)
        path = image_path(await run_in_thread(_sha256, response.body), image.extension)
        body = response.body
        status = "cached"
        if not await self.known_images.claim(self.store, path, info):
            try:
                await ensure_awaitable(
                    self.store.persist_file(
                        path, BytesIO(body), info, headers={"Content-Type": image.media_type}
                    )
                )
            except Exception:
                self.known_images.release(path)
                raise
            status = "downloaded"
            self.crawler.stats.inc_value("archiver/images/bytes", len(body))
            if not image.is_vector:
                await self.thumbnails.write(self.store, body, path, info)
        self.inc_stats(status)
        return ImageFileInfo(
            url=fetch.url,
            path=path,
            checksum=Path(path).stem,
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
        from its header, and one with more than ``ARCHIVER_IMAGE_MAX_PIXELS`` pixels (see
        :func:`archiver.media.checks.check_image_download`).
        """
        content_type = response.headers.get("Content-Type")
        try:
            return check_image_download(
                response.status,
                response.body,
                content_type.decode("latin-1") if content_type else None,
                max_bytes=self.max_bytes,
                max_pixels=self.max_pixels,
                refused_statuses=self.REFUSED_STATUSES,
            )
        except ImageRejected as rejected:
            raise ImageFailed(rejected.reason, rejected.detail, refused=rejected.refused) from None

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
        """The :class:`ImageFailed` that records ``exc``, a download or check error (see
        :func:`archiver.crawling.failures.download_failure_reason`)."""
        if isinstance(exc, ImageFailed):
            return exc
        reason, detail = download_failure_reason(
            exc,
            size_limited=request is not None and bool(request.meta.get("download_maxsize")),
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
        )
        return ImageFailed(reason, detail)

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        """Fill each pending ``ImageRef`` of the item from its URL's download result."""
        if not isinstance(item, ArticleItem):
            return item
        self.known_images.expire(info)
        outcomes: dict[str, ImageRef] = {}
        for url, (ok, value) in zip(pending_urls(item.images), results, strict=False):
            if ok and isinstance(value, dict):
                outcomes[url] = self.known_images.outcome(url, cast("ImageFileInfo", value))
            else:
                error = self.failure_reason(getattr(value, "value", None))
                outcomes[url] = self.known_images.failure(url, str(error))
        settle_pending(item.images, outcomes)
        return item

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
        return image_path(_sha256(response.body), image.extension)

    def inc_stats(self, status: str) -> None:
        """Count images by outcome under ``archiver/images/<status>``."""
        self.crawler.stats.inc_value(f"archiver/images/{status}")


def _sha256(body: bytes) -> str:
    """The hex sha256 that names an image's file."""
    return hashlib.sha256(body).hexdigest()

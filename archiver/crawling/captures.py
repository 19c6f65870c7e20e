"""Keeping responses as they arrived: a downloader middleware that writes WARC records.

It sits just outside Scrapy's decompression (``HttpCompressionMiddleware``, 590), so it sees
the payload and headers as the server sent them (compressed, ``Content-Encoding`` and
``Content-Length`` as they were) after redirects were followed. Requests ask for a capture
with ``meta["archiver_capture"]``: ``source`` (a source's own response: a feed, a sitemap or
an HTML page, told apart by what it answers), ``sitemap`` or ``page``. Each is written as a
``response`` record followed by its ``request`` record (a ``revisit`` when its payload is
one already captured for the URL, without its request unless asked), indexed in the
archive once whole in its file, and handed back on the response's
``meta["archiver_capture_record"]``. Writing (gzip) and
indexing run in a thread, never on the reactor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from archiver.captures.location import captures_location, is_remote, local_directory
from archiver.captures.warc import (
    MAX_FILE_BYTES,
    EarlierCapture,
    SentRequest,
    WarcFileWriter,
    payload_digest,
)
from archiver.items import CaptureRecord
from archiver.readers.rsshub import without_secrets

logger = logging.getLogger(__name__)

CAPTURE_KEY = "archiver_capture"
"""Request meta key: what a capture is asked for: ``source`` (a source's own response),
``sitemap`` (a sitemap a source's index names) or ``page`` (an article's page)."""
RECORD_KEY = "archiver_capture_record"
"""Request meta key the middleware sets: the ``CaptureRecord`` written."""

ORDER = 595
"""The middleware's place in ``DOWNLOADER_MIDDLEWARES``: outside decompression (590)."""

KINDS = ("feed", "sitemap", "page")

REMEMBERED_URLS = 4096
"""The payload digests of this crawl's last captures kept in memory, by URL (the index
answers for the others)."""


class CaptureMiddleware:
    """The downloader middleware; see the module's documentation.

    Settings: ``ARCHIVER_CAPTURES`` (off: no captures at all), ``ARCHIVER_CAPTURES_KINDS``,
    ``ARCHIVER_CAPTURES_MAX_BYTES`` (larger payloads are not kept), ``ARCHIVER_CAPTURES_FILE_BYTES``
    (rotation), ``ARCHIVER_CAPTURES_REQUESTS``, ``ARCHIVER_CAPTURES_REVISIT_REQUESTS``,
    ``ARCHIVER_CAPTURES_REVISITS``,
    ``ARCHIVER_CAPTURES_DIR`` (a directory or a Scrapy files store URI).
    """

    def __init__(self, *, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.rsshub_instance: str | None = settings.get("ARCHIVER_RSSHUB_URL")
        """Its access key is a secret: a route's URL is kept without it, record and index."""
        location = captures_location(settings)
        self.store_uri: str | None = None
        if is_remote(location):
            # Written here, then handed to the store as each file is closed.
            self.store_uri = location
            directory = Path(settings.get("ARCHIVER_CAPTURES_SPOOL") or "captures-spool").resolve()
        else:
            directory = local_directory(location)
        self.kinds = set(settings.getlist("ARCHIVER_CAPTURES_KINDS") or KINDS)
        unknown = self.kinds - set(KINDS)
        if unknown:
            raise NotConfigured(
                f"ARCHIVER_CAPTURES_KINDS: unknown {', '.join(sorted(unknown))} "
                f"(the kinds are {', '.join(KINDS)})"
            )
        self.max_bytes = settings.getint("ARCHIVER_CAPTURES_MAX_BYTES", 0)
        self.requests = settings.getbool("ARCHIVER_CAPTURES_REQUESTS", True)
        self.revisit_requests = self.requests and settings.getbool(
            "ARCHIVER_CAPTURES_REVISIT_REQUESTS", False
        )
        self.revisits = settings.getbool("ARCHIVER_CAPTURES_REVISITS", True)
        self.closed_files: list[Path] = []
        self.writer = WarcFileWriter(
            directory,
            max_bytes=settings.getint("ARCHIVER_CAPTURES_FILE_BYTES", MAX_FILE_BYTES),
            on_closed=self.closed_files.append,
        )
        self.index: Any = None
        """The archive's capture index (``archive.captures``), once the spider is open."""
        self._archive: Any = None
        self._recent: OrderedDict[str, tuple[str, EarlierCapture]] = OrderedDict()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARCHIVER_CAPTURES", True):
            raise NotConfigured("ARCHIVER_CAPTURES is off")
        middleware = cls(crawler=crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def spider_opened(self) -> None:
        from archiver.storage import Archive

        url = self.crawler.settings.get("ARCHIVER_DATABASE_URL")
        try:
            self._archive = await asyncio.to_thread(Archive, url, migrate=False)
        except Exception as error:  # the crawl reports a database it cannot open itself
            logger.error("captures are written but not indexed: %s", error)
            return
        self.index = self._archive.captures

    async def process_response(self, request: Request, response: Response) -> Response:
        asked = request.meta.get(CAPTURE_KEY)
        if not asked or response.status == 304:
            return response
        kind = capture_kind(asked, response)
        stats = self.crawler.stats
        if kind not in self.kinds:
            stats.inc_value(f"archiver/captures/off/{kind}")
            return response
        if self.max_bytes and len(response.body) > self.max_bytes:
            stats.inc_value("archiver/captures/too_large")
            logger.info(
                "%s not captured: %d bytes, over ARCHIVER_CAPTURES_MAX_BYTES",
                response.url,
                len(response.body),
            )
            return response
        try:
            record = await asyncio.to_thread(self._capture, request, response, kind)
        except Exception as error:  # a full disk loses the capture, not the article
            logger.error("cannot keep the capture of %s: %s", response.url, error)
            stats.inc_value("archiver/captures/failed")
        else:
            request.meta[RECORD_KEY] = record
            stats.inc_value(f"archiver/captures/{record.record_type}")
            stats.inc_value("archiver/captures/bytes", record.length)
        if self.closed_files:
            await self._hand_over()
        return response

    def _capture(self, request: Request, response: Response, kind: str) -> CaptureRecord:
        """Write (in a thread) the response, as a revisit when its payload is known for its
        URL, and its request (a revisit's only when asked); then index it."""
        body = response.body
        url = without_secrets(response.url, self.rsshub_instance)
        digest = payload_digest(body)
        earlier = self._earlier(url, digest) if self.revisits else None
        source_url = request.meta.get("source_url")
        record = self.writer.write_response(
            url,
            status=response.status,
            headers=_headers(response.headers),
            body=body,
            fetched_at=datetime.now(UTC),
            protocol=response.protocol or "HTTP/1.1",
            ip_address=str(response.ip_address) if response.ip_address else None,
            request=SentRequest(request.method, _headers(request.headers))
            if (self.revisit_requests if earlier is not None else self.requests)
            else None,
            revisit_of=earlier,
            kind=kind,
            source_url=source_url,
        )
        if record.record_type == "response":
            self._remember(url, digest, EarlierCapture(record.url, record.fetched_at))
        if self.index is not None:
            capture_id = self.index.add(
                record, kind=kind, source_url=source_url, run_id=self._run_id()
            )
            record = replace(record, capture_id=capture_id)
        return record

    def _earlier(self, url: str, digest: str) -> EarlierCapture | None:
        known = self._recent.get(url)
        if known is not None and known[0] == digest:
            return known[1]
        if self.index is None:
            return None
        found = self.index.earlier(url, digest)
        return EarlierCapture(found.url, found.fetched_at) if found is not None else None

    def _remember(self, url: str, digest: str, capture: EarlierCapture) -> None:
        self._recent[url] = (digest, capture)
        self._recent.move_to_end(url)
        while len(self._recent) > REMEMBERED_URLS:
            self._recent.popitem(last=False)

    def _run_id(self) -> int | None:
        stats = self.crawler.stats
        run_ids = stats.get_value("archiver/run_ids")
        run_id = run_ids[-1] if run_ids else stats.get_value("archiver/run_id")
        return int(run_id) if run_id is not None else None

    async def _hand_over(self) -> None:
        """Move the closed files into the remote store (one of Scrapy's files stores); a
        failure keeps the file in the spool (logged), never fails a response."""
        if self.store_uri is None:
            self.closed_files.clear()
            return
        from scrapy.pipelines.files import FilesPipeline
        from scrapy.utils.defer import maybe_deferred_to_future

        try:
            # The stores read their credentials from class attributes that FilesPipeline
            # sets from the settings (FILES_STORE_S3_ACL, AWS_*, GCS_*, FTP_*): with images
            # off nothing has set them yet. Private: re-check on Scrapy upgrades.
            FilesPipeline._update_stores(self.crawler.settings)
            scheme = urlsplit(self.store_uri).scheme
            store = FilesPipeline.STORE_SCHEMES[scheme](self.store_uri)
        except Exception as error:
            logger.error("cannot use %s for captures: %s", _shown(self.store_uri), error)
            self.closed_files.clear()
            return
        while self.closed_files:
            path = self.closed_files.pop(0)
            try:
                data = await asyncio.to_thread(path.read_bytes)
                stored = store.persist_file(path.name, BytesIO(data), info=None)  # type: ignore[arg-type]
                if stored is not None:
                    await maybe_deferred_to_future(stored)
            except Exception as error:  # kept in the spool, for the next crawl or by hand
                logger.error("cannot move %s to %s: %s", path, _shown(self.store_uri), error)
                continue
            await asyncio.to_thread(path.unlink)
            logger.info("captures %s moved to %s", path.name, _shown(self.store_uri))

    async def spider_closed(self) -> None:
        await asyncio.to_thread(self.writer.close)
        await self._hand_over()
        if self._archive is not None:
            await asyncio.to_thread(self._archive.close)


def capture_kind(asked: str, response: Response) -> str:
    """What a response asked for as *asked* is: a source's is a page (HTML), a sitemap (by
    its name or its root element) or a feed."""
    if asked != "source":
        return asked
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
    if content_type.startswith(("text/html", "application/xhtml")):
        return "page"
    path = urlsplit(response.url).path.lower()
    head = response.body[:2048]
    if path.endswith("robots.txt") or b"<urlset" in head or b"<sitemapindex" in head:
        return "sitemap"
    if "sitemap" in path.rsplit("/", 1)[-1]:
        return "sitemap"
    return "feed"


def _shown(uri: str) -> str:
    """*uri* without its user and password, for the log."""
    parts = urlsplit(uri)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _headers(headers: Any) -> list[tuple[str, str]]:
    return [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, values in headers.items()
        for value in values
    ]

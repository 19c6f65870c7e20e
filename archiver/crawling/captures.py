"""Keeping responses as they arrived: a downloader middleware that writes WARC records.

It sits just outside Scrapy's decompression (``HttpCompressionMiddleware``, 590), so it sees
the payload and headers as the server sent them (compressed, ``Content-Encoding`` and
``Content-Length`` as they were) after redirects were followed. Requests ask for a capture
with ``meta["archiver_capture"]`` (a kind: ``page``); the record is handed back on the
response's ``meta["archiver_capture_record"]``. Writing (gzip) runs in a thread, never on the
reactor.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from archiver.captures.warc import WarcFileWriter

logger = logging.getLogger(__name__)

CAPTURE_KEY = "archiver_capture"
"""Request meta key: what a capture is asked for: ``page`` (an article's page), or
``source`` (a source's own response, kept when it is an HTML page)."""
RECORD_KEY = "archiver_capture_record"
"""Request meta key the middleware sets: the ``CaptureRecord`` written."""

ORDER = 595
"""The middleware's place in ``DOWNLOADER_MIDDLEWARES``: outside decompression (590)."""


class CaptureMiddleware:
    """The downloader middleware; see the module's documentation."""

    def __init__(self, directory: Path) -> None:
        self.writer = WarcFileWriter(directory)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(captures_dir(crawler.settings))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Response:
        kind = request.meta.get(CAPTURE_KEY)
        if not kind or response.status == 304:
            return response
        if kind == "source" and not _is_html(response):
            return response  # a feed or a sitemap: captured from the captures issue on
        try:
            record = await asyncio.to_thread(
                self.writer.write_response,
                response.url,
                status=response.status,
                headers=[
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, values in response.headers.items()
                    for value in values
                ],
                body=response.body,
                fetched_at=datetime.now(UTC),
                protocol=response.protocol or "HTTP/1.1",
                ip_address=str(response.ip_address) if response.ip_address else None,
            )
        except OSError as error:  # a full disk loses the capture, not the article
            logger.error("cannot keep the capture of %s: %s", response.url, error)
        else:
            request.meta[RECORD_KEY] = record
        return response

    def spider_closed(self) -> None:
        self.writer.close()


def captures_dir(settings: Any) -> Path:
    """``ARCHIVER_CAPTURES_DIR``, else ``captures`` beside the media directory (in the
    working directory when the media live in a remote store)."""
    if configured := settings.get("ARCHIVER_CAPTURES_DIR"):
        return Path(configured)
    media = settings.get("ARCHIVER_MEDIA_DIR") or "media"
    if "://" in media:
        return Path("captures")
    return Path(media).resolve().parent / "captures"


def _is_html(response: Response) -> bool:
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
    return content_type.startswith(("text/html", "application/xhtml"))

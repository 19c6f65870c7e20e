"""What the crawl reads off a Scrapy response: a header as text, an article page's fetch."""

from __future__ import annotations

from datetime import datetime

from scrapy.http import Response

from archiver.crawling.captures import RECORD_KEY
from archiver.items import PageFetch


def response_header(response: Response, name: str) -> str | None:
    """The value of header ``name`` of ``response`` as text, None when it has none."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def page_fetch(response: Response, *, reason: str, attempted_at: datetime) -> PageFetch:
    """An article's page as fetched: where redirects led, its validators for a conditional
    request next time, and its capture (``CaptureMiddleware`` put it on the request)."""
    return PageFetch(
        status="fetched",
        reason=reason,
        url=response.url,
        attempted_at=attempted_at,
        etag=response_header(response, "ETag"),
        last_modified=response_header(response, "Last-Modified"),
        capture=response.meta.get(RECORD_KEY),
    )

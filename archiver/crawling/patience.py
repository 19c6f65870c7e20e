"""Patience with servers: a short ``Retry-After`` waited out, 5xx bursts retried with back-off.

:class:`PatientRetryMiddleware`, a downloader middleware beside Scrapy's ``RetryMiddleware``
(which keeps the network errors: timeouts, refused connections), takes over the statuses:

- a ``429`` or ``503`` whose ``Retry-After`` (seconds or an HTTP date, RFC 9110 §10.2.3) is
  at most ``ARCHIVER_RETRY_AFTER_MAX`` (60 s) is asked again after that long, within the
  run; meanwhile no other request goes to that host (``host:port``), and every other host
  goes on. A longer one is handed on as it came: the source is failed for this run and due
  again after its ``Retry-After`` (:mod:`archiver.crawling.policy`), as before.
- a ``500``, ``502``, ``503`` (without ``Retry-After``), ``504``, ``522``, ``524`` or ``408``
  is asked again after ``ARCHIVER_RETRY_BACKOFF`` seconds (1), doubling each time, at most
  ``ARCHIVER_RETRY_BACKOFF_MAX`` (30), only this request waiting.

Both are bounded by ``RETRY_TIMES`` (2), or a request's own ``max_retry_times`` (images:
``ARCHIVER_IMAGE_RETRIES``); ``dont_retry`` in its meta turns both off. Every wait is listed
on the request that finally answers (``meta["archiver_waits"]``: ``url``, ``status``,
``waited`` seconds, ``reason`` ``retry-after`` or ``backoff``), which the spider puts on its
source's outcome (the run's ``sources``: ``waits``), and counted in the crawl's stats
(``archiver/retry/...``). The wait itself is ``await``ed in ``process_request``: the request
holds one of ``CONCURRENT_REQUESTS`` while it waits, never a host's slot.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from archiver.crawling.policy import parse_retry_after

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = frozenset({500, 502, 503, 504, 522, 524, 408})
"""Statuses a server gives in a burst: asked again after a back-off."""
RETRY_AFTER_STATUSES = frozenset({429, 503})
"""Statuses whose ``Retry-After`` says how long to wait (RFC 6585 §4, RFC 9110 §15.6.4)."""


class PatientRetryMiddleware:
    """The downloader middleware; see the module's documentation."""

    RETRY_AFTER_MAX = 60.0
    BACKOFF = 1.0
    BACKOFF_MAX = 30.0

    def __init__(
        self,
        *,
        retry_after_max: float = RETRY_AFTER_MAX,
        retry_times: int = 2,
        backoff: float = BACKOFF,
        backoff_max: float = BACKOFF_MAX,
        stats: StatsCollector | None = None,
    ) -> None:
        self.retry_after_max = retry_after_max
        self.retry_times = retry_times
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.stats = stats
        self._not_before: dict[str, float] = {}
        """``host:port`` -> the time (``time.time()``) before which it gets no request; wall
        clock, as a retried request's own ``archiver_not_before``, which a worker's shared
        queue may hand to another process."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            retry_after_max=settings.getfloat("ARCHIVER_RETRY_AFTER_MAX", cls.RETRY_AFTER_MAX),
            retry_times=settings.getint("RETRY_TIMES", 2),
            backoff=settings.getfloat("ARCHIVER_RETRY_BACKOFF", cls.BACKOFF),
            backoff_max=settings.getfloat("ARCHIVER_RETRY_BACKOFF_MAX", cls.BACKOFF_MAX),
            stats=crawler.stats,
        )

    async def process_request(self, request: Request) -> None:
        """Wait until the request's host, and the request itself, may be asked."""
        now = time.time()
        until = max(
            self._not_before.get(_host(request.url), 0.0),
            float(request.meta.get("archiver_not_before", 0.0)),
        )
        if until > now:
            await _sleep(until - now)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """The response, or the request again after a wait this middleware will take."""
        if request.meta.get("dont_retry") or response.status not in (
            BACKOFF_STATUSES | RETRY_AFTER_STATUSES
        ):
            return response
        retries = int(request.meta.get("archiver_retry_count", 0))
        header = response.headers.get("Retry-After")
        retry_after = (
            parse_retry_after(header.decode("latin-1"))
            if header and response.status in RETRY_AFTER_STATUSES
            else None
        )
        if retry_after is not None:
            if retry_after > self.retry_after_max:
                self._count("deferred")  # too long for this run: the schedule waits
                return response
            wait, reason = float(retry_after), "retry-after"
        elif response.status in BACKOFF_STATUSES:
            wait, reason = min(self.backoff * 2**retries, self.backoff_max), "backoff"
        else:
            return response  # a 429 that does not say how long: the schedule backs off
        limit = int(request.meta.get("max_retry_times", self.retry_times))
        if retries >= limit:
            self._count("gave_up")
            return response
        now = time.time()
        if reason == "retry-after":
            host = _host(request.url)
            self._not_before[host] = max(self._not_before.get(host, 0.0), now + wait)
        waits: list[dict[str, Any]] = list(request.meta.get("archiver_waits") or [])
        waits.append(
            {"url": request.url, "status": response.status, "waited": wait, "reason": reason}
        )
        retry = request.replace(dont_filter=True)
        retry.meta.update(
            archiver_retry_count=retries + 1,
            archiver_waits=waits,
            archiver_not_before=now + wait,
        )
        self._count(reason)
        logger.info(
            "HTTP %d from %s: asking again in %.1f s (%s)",
            response.status,
            request.url,
            wait,
            reason,
        )
        return retry

    def _count(self, what: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"archiver/retry/{what}")


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def _sleep(seconds: float) -> None:
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet import reactor  # the one the crawl installed
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))

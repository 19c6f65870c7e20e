"""The requests of the images pipeline: the limits each carries, and the Referer each sends."""

from __future__ import annotations

from collections.abc import Container

from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK

from archiver.media.referers import ImageFetch

META_KEY = "archiver_image"
"""Request meta key holding the :class:`~archiver.media.referers.ImageFetch` of a request."""


class ImageRequests:
    """Makes the image requests: no callback (the pipeline handles the response), the
    download limits in their meta, and the Referer header of a strategy."""

    def __init__(
        self,
        *,
        accept: str,
        max_bytes: int,
        timeout: float,
        retries: int,
        max_redirects: int,
        handle_httpstatus_list: Container[int],
    ) -> None:
        self.accept = accept
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.retries = retries
        self.max_redirects = max_redirects
        self.handle_httpstatus_list = handle_httpstatus_list

    def request(self, fetch: ImageFetch) -> Request:
        """A request for the image, with the limits; no Referer strategy yet. A URL that
        Scrapy cannot request raises ``ValueError``."""
        return Request(
            fetch.url,
            callback=NO_CALLBACK,
            headers={"Accept": self.accept},
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

    @staticmethod
    def use_strategy(request: Request, fetch: ImageFetch, strategy: str) -> None:
        """Send ``request`` with the Referer of ``strategy`` (recorded on ``fetch``)."""
        referer = fetch.use(strategy)
        if referer is None:
            request.headers.pop("Referer", None)
            request.meta["referrer_policy"] = "no-referrer"  # none after redirects either
        else:
            request.headers["Referer"] = referer
            request.meta.pop("referrer_policy", None)

    def retry(self, fetch: ImageFetch, known_strategy: str | None) -> Request | None:
        """The request with the next Referer strategy worth trying after a refusal, None
        when none is (``known_strategy``: what the image's host is known to want)."""
        strategy = fetch.next_strategy(known_strategy)
        if strategy is None:
            return None
        request = self.request(fetch)
        self.use_strategy(request, fetch, strategy)
        return request

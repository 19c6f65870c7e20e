"""Keep documents from pointing the crawler at private addresses.

A feed, a sitemap or an article page is written by someone else, and everything it links to
is fetched: images, article pages, announced feeds, redirects. Without a guard a hostile
document could make the archiver fetch ``http://169.254.169.254/`` (a cloud's metadata
service) or an intranet page and archive the answer where others can read it.

:class:`PrivateAddressGuard`, a downloader middleware, refuses a request whose host is, or
resolves to, an address that is not globally routable (loopback, private, link-local, shared,
reserved: :attr:`ipaddress.IPv4Address.is_global`), unless the user asked for that host: the
hosts of the crawl's sources (``request.meta["source_url"]``, the URLs given to ``crawl`` or
``sources add``; for an RSSHub route, its instance) are trusted, with their ``robots.txt``,
and so is everything a feed read from disk links to. So a feed served from
``http://127.0.0.1:1200/`` (a local RSSHub) is crawled with its own pages and images, and a
public feed that links to ``http://10.0.0.5/`` is not. It runs first among the downloader
middlewares, so that an untrusted request is refused before anything (``robots.txt``) is
fetched for it.

``ARCHIVER_ALLOW_PRIVATE_ADDRESSES = True`` turns the guard off (an intranet archive whose
feeds link to other intranet hosts). The check resolves the name before the download does; a
name whose address changes between the two lookups (DNS rebinding) is not caught.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import run_in_thread

from archiver.rsshub import DEFAULT_INSTANCE
from archiver.rsshub import SCHEME as RSSHUB_SCHEME

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

logger = logging.getLogger(__name__)


class PrivateAddressRefused(IgnoreRequest):
    """A request a document made to a private address; ``str()`` says which and why."""


def is_public(address: str) -> bool:
    """Whether *address* (an IPv4 or IPv6 literal) is a globally routable unicast address.
    An IPv4 address mapped into IPv6 (``::ffff:10.0.0.1``) is judged as the IPv4 address
    it carries."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0: a zone
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PrivateAddressGuard:
    """The downloader middleware; see the module's documentation."""

    def __init__(self, rsshub_instance: str | None = None) -> None:
        self._resolved: dict[str, list[str]] = {}
        self._trusted: set[str] = set()
        """``host[:port]`` of every source seen in this crawl."""
        self._rsshub = urlsplit(rsshub_instance or DEFAULT_INSTANCE).netloc.lower()
        """Where RSSHub routes are fetched from (``ARCHIVER_RSSHUB_URL``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("ARCHIVER_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured
        return cls(crawler.settings.get("ARCHIVER_RSSHUB_URL"))

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            return
        source = request.meta.get("source_url")
        if isinstance(source, str):
            source_parts = urlsplit(source)
            if source_parts.scheme == "file":
                return  # a feed read from disk: the user's own document
            if source_parts.scheme == RSSHUB_SCHEME:
                self._trusted.add(self._rsshub)
            else:
                self._trusted.add(source_parts.netloc.lower())
        if parts.netloc.lower() in self._trusted:
            return
        addresses = await self._addresses(host)
        private = next((a for a in addresses if not is_public(a)), None)
        if private is not None:
            shown = host if private == host else f"{host} ({private})"
            raise PrivateAddressRefused(
                f"private address: {shown} is not fetched for a document of another host "
                "(ARCHIVER_ALLOW_PRIVATE_ADDRESSES=True allows it)"
            )

    async def _addresses(self, host: str) -> list[str]:
        """The addresses *host* stands for: itself if it is one, else what it resolves to
        (remembered for the crawl). A name that does not resolve gives none: the download
        then fails with the resolver's own error."""
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        if host not in self._resolved:
            self._resolved[host] = await run_in_thread(_resolve, host)
        return self._resolved[host]


def _resolve(host: str) -> list[str]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})

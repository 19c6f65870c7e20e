"""Keep documents from pointing the crawler at private addresses or local files.

A feed, a sitemap or an article page is written by someone else, and everything it links to
is fetched: images, article pages, announced feeds, redirects. Without a guard a hostile
document could make the archiver fetch ``http://169.254.169.254/`` (a cloud's metadata
service), an intranet page or a file on this machine, and archive the answer where others
can read it.

:class:`PrivateAddressGuard`, a downloader middleware, refuses

- a ``file:`` URL, unless the request's source (``request.meta["source_url"]``) is a file
  itself: a feed read from disk is the user's own, a web document's ``<base href="file:">``
  or link is not (this rule always holds), nor does a web document get ``ftp:`` or ``s3:``
  URLs fetched;
- an http(s) request whose host is, or resolves to, an address that is not globally
  routable (loopback, private, link-local, shared, reserved: :func:`is_public`), unless
  that host is its own source's (for an RSSHub route, the instance's), or the request is
  the ``robots.txt`` of such a host. So a feed served from ``http://127.0.0.1:1200/`` (a
  local RSSHub) is crawled with its own pages and images, and a public feed that links to
  ``http://10.0.0.5/`` or to that local RSSHub is not.

It runs first among the downloader middlewares, so that nothing (``robots.txt``) is fetched
for a refused request. ``ARCHIVER_ALLOW_PRIVATE_ADDRESSES = True`` lifts the second rule (an
intranet archive whose feeds link to other intranet hosts). The check resolves the name
before the download does, and checks again the address the download actually connected to
(``response.ip_address``): a name whose address changes between the two lookups (DNS
rebinding: public to the guard, ``127.0.0.1`` or ``169.254.169.254`` to the download) has its
response refused, so nothing it said is archived or followed; redirects included, since each
hop is a new request and its final response is checked. The request itself was sent by then:
what is kept from the attacker is the answer.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.asyncio import run_in_thread

from archiver.readers.rsshub import DEFAULT_INSTANCE
from archiver.readers.rsshub import SCHEME as RSSHUB_SCHEME

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class PrivateAddressRefused(IgnoreRequest):
    """A request a document made to a private address; ``str()`` says which and why."""


class LocalFileRefused(IgnoreRequest):
    """A ``file:`` URL that a web document named; ``str()`` says which."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public(address: str) -> bool:
    """Whether *address* (an IPv4 or IPv6 literal) is a globally routable unicast address.
    An IPv6 address that carries an IPv4 one (mapped ``::ffff:10.0.0.1``, compatible
    ``::10.0.0.1``, NAT64 ``64:ff9b::10.0.0.1``, 6to4 ``2002:a00:1::``) is judged as the
    IPv4 address it carries too."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0: a zone
    except ValueError:
        return False
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return all(c.is_global and not c.is_multicast for c in candidates)


class PrivateAddressGuard:
    """The downloader middleware; see the module's documentation."""

    def __init__(self, rsshub_instance: str | None = None, *, allow_private: bool = False):
        self.allow_private = allow_private
        self._resolved: dict[str, tuple[float, list[str]]] = {}
        """What names resolved to, and when (a worker runs for days: see ``_addresses``)."""
        self._sources: set[str] = set()
        """``host[:port]`` of the sources seen: their ``robots.txt`` is let through."""
        self._rsshub = urlsplit(rsshub_instance or DEFAULT_INSTANCE).netloc.lower()
        """Where RSSHub routes are fetched from (``ARCHIVER_RSSHUB_URL``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(
            settings.get("ARCHIVER_RSSHUB_URL"),
            allow_private=settings.getbool("ARCHIVER_ALLOW_PRIVATE_ADDRESSES"),
        )

    async def process_request(self, request: Request) -> None:
        host = self._host_to_check(request)
        if host is None:
            return
        addresses = await self._addresses(host)
        private = next((a for a in addresses if not is_public(a)), None)
        if private is not None:
            shown = host if private == host else f"{host} ({private})"
            raise PrivateAddressRefused(
                f"private address: {shown} is not fetched for a document of another host "
                "(ARCHIVER_ALLOW_PRIVATE_ADDRESSES=True allows it)"
            )

    def process_response(self, request: Request, response: Response) -> Response:
        """The response, unless it came from a private address that the request's host
        did not resolve to when it was checked: a name re-bound between the guard's lookup
        and the download's (DNS rebinding) is refused here, on the address actually
        connected to, and nothing of it is archived. Redirects are checked hop by hop: each
        new request passes :meth:`process_request`, each final response this."""
        address = getattr(response, "ip_address", None)
        if address is None or is_public(str(address)):
            return response
        host = self._host_to_check(request)
        if host is None:
            return response
        raise PrivateAddressRefused(
            f"private address: {host} connected to {address} (DNS rebinding?), not archived "
            "for a document of another host (ARCHIVER_ALLOW_PRIVATE_ADDRESSES=True allows it)"
        )

    def _host_to_check(self, request: Request) -> str | None:
        """The host whose address the request may not reach privately, or None when the
        address rule does not apply (its own source's host, a file read from disk, the
        setting); raises for the URLs refused whatever their address."""
        parts = urlsplit(request.url)
        source = request.meta.get("source_url")
        source_parts = urlsplit(source) if isinstance(source, str) else None
        from_disk = source_parts is not None and source_parts.scheme.lower() == "file"
        scheme = parts.scheme.lower()
        if scheme == "file" and not from_disk:
            raise LocalFileRefused(
                f"local file: {request.url} is not read for a document of the web"
            )
        if scheme not in ("http", "https", "file", "data") and not from_disk:
            # ftp:, s3:...: Scrapy could fetch them, from any address; a feed has no need.
            raise PrivateAddressRefused(
                f"{scheme}: URLs are not fetched for a document of the web ({request.url})"
            )
        host = parts.hostname
        if scheme not in ("http", "https") or not host or from_disk or self.allow_private:
            return None
        netloc = parts.netloc.lower()
        if source_parts is not None:
            own = self._rsshub if source_parts.scheme.lower() == RSSHUB_SCHEME else None
            own = own or source_parts.netloc.lower()
            self._sources.add(own)
            if netloc == own:
                return None
        elif parts.path == "/robots.txt" and netloc in self._sources:
            return None  # asked for by the robots.txt middleware, for a source's own host
        return host

    async def _addresses(self, host: str) -> list[str]:
        """The addresses *host* stands for: itself if it is one, else what it resolves to
        (remembered for :data:`RESOLVED_SECONDS`). A name that does not resolve gives none:
        the download then fails with the resolver's own error."""
        try:
            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            pass
        now = time.monotonic()
        known = self._resolved.get(host)
        if known is None or now - known[0] > RESOLVED_SECONDS:
            if len(self._resolved) >= RESOLVED_MAX:
                self._resolved.clear()
            known = self._resolved[host] = (now, await run_in_thread(_resolve, host))
        return known[1]


RESOLVED_SECONDS = 300
"""How long a name's addresses are trusted before it is resolved again."""
RESOLVED_MAX = 10_000
"""Names remembered at most (then forgotten all at once)."""


def _resolve(host: str) -> list[str]:
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})

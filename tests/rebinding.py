"""A DNS resolver for the crawl that re-binds names: ``*.rebind.test`` is ``127.0.0.1`` to the
download, while the private-address guard's own lookup (``getaddrinfo``) finds nothing, as
if the name had been public a moment before. ``-s TWISTED_DNS_RESOLVER=tests.rebinding.
RebindingResolver`` installs it."""

from __future__ import annotations

from collections.abc import Sequence

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer

REBOUND_SUFFIX = ".rebind.test"


class RebindingResolver(CachingThreadedResolver):
    def getHostByName(
        self, name: str, timeout: Sequence[int] = ()
    ) -> defer.Deferred[str]:  # Twisted's name
        if name.endswith(REBOUND_SUFFIX):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)

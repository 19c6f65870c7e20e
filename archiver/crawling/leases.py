"""Keeping a run's leases while it runs.

``archiver run`` leases its sources for ``ARCHIVER_LEASE_SECONDS`` (30 minutes) so that a
run started meanwhile (cron, every minute) leaves them alone, and so that a killed run's
sources are free again once the lease expires. A run that lasts longer than its leases
(a large sitemap, a slow host) would lose them half-way and another run would crawl the same
sources again; :class:`LeaseKeeper` renews them every third of their length while the crawl
goes on. A killed run stops renewing, so its leases still expire.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task, threads

from archiver.errors import ArchiverError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class LeaseKeeper:
    """A Scrapy extension: renew the leases of ``ARCHIVER_LEASE_OWNER`` (set by ``run``)
    every ``ARCHIVER_LEASE_SECONDS / 3``. Off when no owner is set (ad-hoc crawls)."""

    def __init__(self, database_url: str | None, owner: str, seconds: int) -> None:
        self.database_url = database_url
        self.owner = owner
        self.seconds = seconds
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        owner = settings.get("ARCHIVER_LEASE_OWNER")
        if not owner:
            raise NotConfigured
        seconds = settings.getint("ARCHIVER_LEASE_SECONDS")
        keeper = cls(settings.get("ARCHIVER_DATABASE_URL"), owner, max(seconds, 1))
        crawler.signals.connect(keeper.start, signal=signals.engine_started)
        crawler.signals.connect(keeper.stop, signal=signals.engine_stopped)
        return keeper

    def start(self) -> None:
        self.loop = task.LoopingCall(self.renew)
        self.loop.start(self.seconds / 3, now=False)

    def stop(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def renew(self) -> Any:
        """Renew in a thread (the database may be slow); a failure is logged, and the next
        renewal tries again before the leases run out."""
        deferred = threads.deferToThread(self._renew)
        deferred.addErrback(
            lambda failure: logger.warning("Could not renew leases: %s", failure.value)
        )
        return deferred

    def _renew(self) -> None:
        from archiver.storage import Archive

        try:
            archive = Archive(self.database_url, migrate=False)
        except ArchiverError as exc:
            logger.warning("Could not renew leases: %s", exc)
            return
        try:
            renewed = archive.leases.renew([self.owner], self.seconds)
        finally:
            archive.close()
        logger.debug("Renewed %d leases of %s for %ss", renewed, self.owner, self.seconds)

"""Linking committed articles with their copies in a process of its own, beside the crawl."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from scrapy.crawler import Crawler

from archiver.processes import WorkerProcesses
from archiver.storage import Archive

logger = logging.getLogger(__name__)

_archive: list[Archive] = []
"""The linking process's own archive, opened by :func:`_open`."""


def _open(url: str) -> None:
    _archive.append(Archive(url, migrate=False))


def _link(article_ids: Sequence[int]) -> dict[int, int | None]:
    return _archive[0].stories.link(article_ids)


def _close() -> None:
    while _archive:
        _archive.pop().close()


class LinkingProcess:
    """``archive.stories.link`` in a process of its own (``ARCHIVER_STORIES_PROCESS``).

    Linking (fingerprints, candidates, joins) is the store's heaviest work and pure Python,
    so on the crawl's interpreter it takes turns with everything else under one lock. Here
    it runs on another core, with its own connection to the archive: it reads the articles
    the store committed and writes their stories. One process, so links are made one call at
    a time, in the order asked. It starts at the first call (a crawl that links nothing
    starts none) and, if it dies, the call fails and the next one starts a fresh process.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        """The archive's URL, its password included (the process connects with it)."""
        self._executor: WorkerProcesses | None = None

    @property
    def pid(self) -> int | None:
        """The linking process's id while it runs (for ``ps`` and the tests), else None."""
        processes = getattr(self._executor, "_processes", None) or {}
        return next(iter(processes), None)

    async def link(self, article_ids: Sequence[int]) -> dict[int, int | None]:
        if self._executor is None:
            self._executor = WorkerProcesses(1, _open, (self.url,))
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(
                executor, _link, list(article_ids)
            )
        except BrokenProcessPool:
            if self._executor is executor:
                self._executor = None
                executor.shutdown(wait=False)
            raise

    async def close(self) -> None:
        """Close the process's archive (its WAL folded) and wait for it to end."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.wrap_future(executor.submit(_close))
        except BrokenProcessPool:
            logger.warning("The linking process died: archiver stories rebuild links what it left")
        finally:
            await asyncio.to_thread(executor.shutdown, wait=True)


class GroupLinks:
    """The store's committed groups linked with their copies (``ARCHIVER_STORIES``): in a
    :class:`LinkingProcess`, else (``ARCHIVER_STORIES_PROCESS`` off) on the store's threads.

    A group is acknowledged once it is committed and linking has room for it (at most
    ``ARCHIVER_STORIES_BEHIND`` groups linking or waiting to), not once it is linked: a
    linking slower than the crawl holds the crawl back by those groups, not by every one.
    A failure (or a crawl killed before it) costs the links, never the articles, and a later
    ``archiver stories rebuild`` makes them; ``archiver/stories/linked`` and ``/failed``
    count them in the crawl's stats.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.enabled = settings.getbool("ARCHIVER_STORIES", True)
        self.in_process = settings.getbool("ARCHIVER_STORIES_PROCESS")
        self._behind = asyncio.Semaphore(max(1, settings.getint("ARCHIVER_STORIES_BEHIND")))
        self._link: Callable[[list[int]], Awaitable[dict[int, int | None]]] | None = None
        self._process: LinkingProcess | None = None

    def open(self, archive: Archive, call: Callable[..., Awaitable[Any]]) -> None:
        """Link into *archive*: in a process of its own, or through *call* (the store's
        threads)."""
        if not self.enabled:
            return
        if self.in_process:
            self._process = LinkingProcess(archive.engine.url.render_as_string(hide_password=False))
            self._link = self._process.link
        else:
            self._link = lambda ids: call(archive.stories.link, ids)

    async def after_commit(self, article_ids: list[int], acknowledge: Callable[[], None]) -> None:
        """Acknowledge a committed group once linking has room, then link its new and
        changed articles (*article_ids*)."""
        if not (article_ids and self._link is not None):
            acknowledge()
            return
        async with self._behind:
            acknowledge()
            try:
                story_ids = await self._link(article_ids)
            except Exception:  # the articles are archived; only their links are missing
                logger.exception("Cannot link %d articles with their copies", len(article_ids))
                self.stats.inc_value("archiver/stories/failed", len(article_ids))
                return
        linked = sum(story_ids.get(article_id) is not None for article_id in article_ids)
        self.stats.inc_value("archiver/stories/linked", linked)

    async def close(self) -> None:
        if self._process is not None:
            await self._process.close()

"""Linking committed articles with their copies in a process of its own, beside the crawl."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

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
        self._executor: ProcessPoolExecutor | None = None

    @property
    def pid(self) -> int | None:
        """The linking process's id while it runs (for ``ps`` and the tests), else None."""
        processes = getattr(self._executor, "_processes", None) or {}
        return next(iter(processes), None)

    async def link(self, article_ids: Sequence[int]) -> dict[int, int | None]:
        if self._executor is None:
            # spawn: a fork of a process running the reactor's threads could deadlock
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                1, mp_context=context, initializer=_open, initargs=(self.url,)
            )
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

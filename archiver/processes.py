"""Worker processes for any command: spawned, ended with their parent, logging into its log."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from logging.handlers import QueueHandler, QueueListener
from typing import Any


class WorkerProcesses(ProcessPoolExecutor):
    """A ``ProcessPoolExecutor`` of spawned processes whose log records reach the parent's own
    handlers (a crawl's log file, its level), through a queue the parent listens on.

    Spawned, not forked: a fork of a process running threads (a crawl's reactor, a pool) or
    holding database handles could deadlock. A process starts at the first call that needs
    it, *initializer* (with *initargs*) run in it first, and ends when its parent is gone,
    however it went (a ``SIGKILL`` included): a pool's worker holds both ends of its call
    queue, never sees end-of-file, and would otherwise outlive a killed crawl or import,
    holding its output open.
    """

    def __init__(
        self,
        processes: int = 1,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._records: Any = context.Queue()
        self._listener: QueueListener | None = QueueListener(self._records, _Dispatch())
        self._listener.start()
        level = _least_level_kept()
        super().__init__(
            processes,
            mp_context=context,
            initializer=_start,
            initargs=(os.getpid(), self._records, level, initializer, initargs),
        )

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        listener, self._listener = self._listener, None
        if listener is not None:  # its last records handed on, once
            listener.stop()


def _least_level_kept() -> int:
    """The lowest level the parent's log keeps: a worker sends nothing below it."""
    root = logging.getLogger()
    handlers = [handler.level for handler in root.handlers]
    return max(root.getEffectiveLevel(), min(handlers, default=logging.WARNING))


class _Dispatch(logging.Handler):
    """Hand a worker's record to the logger of its name, here, as if logged here."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


def _start(
    parent: int,
    records: Any,
    level: int,
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
) -> None:
    root = logging.getLogger()
    root.handlers[:] = [QueueHandler(records)]
    root.setLevel(level)
    # The parent's pid from the parent: it may be gone before this process is ready to ask.
    threading.Thread(target=_watch, args=(parent,), name="watch", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _watch(parent: int, every: float = 0.5) -> None:
    """End this process once *parent* is gone (this process is then another's child)."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)

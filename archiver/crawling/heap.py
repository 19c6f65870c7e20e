"""The crawl process's heap: few malloc arenas, so its peak memory does not grow with the
number of articles it has crawled."""

from __future__ import annotations

import ctypes
import os
import sys

M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter for the most arenas (``malloc.h``)."""


def limit_malloc_arenas(count: int) -> bool:
    """Let glibc's ``malloc`` use at most *count* arenas in this process; whether it did.

    glibc gives each thread that allocates while another does an arena of its own, up to
    eight per core, and memory freed in an arena is seldom given back. A crawl's threads
    (reading feeds, normalizing, storing, writing captures and images) each leave freed
    article text behind in theirs, so the crawl's peak memory grew with the articles it had
    crawled: 20 feeds of 500 articles peaked at 252 MiB with glibc's default and 218 MiB
    with two arenas, against 186 and 180 MiB for 20 feeds of 50, and no slower. Call it
    before the threads start. ``MALLOC_ARENA_MAX``, when set, is the user's word and left
    alone, as is a *count* under 1; elsewhere than glibc this does nothing."""
    if count < 1 or os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has it, as a no-op)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, count))

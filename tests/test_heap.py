"""The crawl's malloc arenas (glibc): few, whatever its threads, unless the user says."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from archiver.crawling.heap import limit_malloc_arenas

ARENAS_AFTER_THREADS = """
import ctypes, sys, tempfile, threading
from archiver.crawling.heap import limit_malloc_arenas

applied = limit_malloc_arenas(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype = libc.fdopen.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
barrier = threading.Barrier(8)

def allocate():  # eight threads allocating at the same moment, as a crawl's do
    barrier.wait()
    blocks = [libc.malloc(4096) for _ in range(2000)]
    for block in blocks:
        libc.free(block)

threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with tempfile.TemporaryFile() as report:  # malloc_info: one <heap> per arena
    stream = libc.fdopen(report.fileno(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fflush(ctypes.c_void_p(stream))
    report.seek(0)
    print(applied, report.read().count(b"<heap nr="))
"""


def arenas(count: int, **environ: str) -> tuple[bool, int]:
    """Whether the limit was applied, and how many arenas eight threads then used."""
    result = subprocess.run(
        [sys.executable, "-c", ARENAS_AFTER_THREADS, str(count)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **environ},
    )
    applied, heaps = result.stdout.split()
    return applied == "True", int(heaps)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_crawl_process_uses_the_arenas_it_is_given() -> None:
    assert arenas(2) == (True, 2)
    applied, default = arenas(0)  # 0: glibc's own, an arena per thread allocating at once
    assert not applied
    assert default > 2
    applied, theirs = arenas(2, MALLOC_ARENA_MAX="3")  # the user's word stands
    assert not applied
    assert theirs == 3


def test_nothing_is_limited_below_one_arena() -> None:
    assert limit_malloc_arenas(0) is False
    assert limit_malloc_arenas(-1) is False

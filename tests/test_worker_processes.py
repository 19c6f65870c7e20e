"""The pipelines' worker processes (``archiver.processes.WorkerProcesses``): their log records
reach the crawl's log, and none outlives a crawl killed with ``SIGKILL``."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from archiver.processes import WorkerProcesses
from tests.conftest import ROOT, wait_until


def _warn(message: str) -> int:
    logging.getLogger("archiver.test.worker").warning("from the worker: %s", message)
    return os.getpid()


def test_a_workers_log_records_reach_the_crawls_handlers(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    workers = WorkerProcesses(1)
    try:
        worker = workers.submit(_warn, "hello").result(timeout=60)
    finally:
        workers.shutdown(wait=True)  # the listener hands on what is queued before it stops
    assert worker != os.getpid()
    found = [r for r in caplog.records if r.name == "archiver.test.worker"]
    assert [r.getMessage() for r in found] == ["from the worker: hello"]
    assert found[0].levelno == logging.WARNING
    assert found[0].process == worker


PROGRAM = textwrap.dedent(
    """
    import os, sys, time
    from archiver.processes import WorkerProcesses

    workers = WorkerProcesses(1)
    print(workers.submit(os.getpid).result(timeout=60), flush=True)
    time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_a_worker_ends_when_the_process_that_started_it_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PROGRAM], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as crawl:
        assert crawl.stdout is not None
        try:
            worker = int(crawl.stdout.readline())
            assert alive(worker)
        finally:
            crawl.send_signal(signal.SIGKILL)
            crawl.wait(timeout=30)
        assert wait_until(lambda: not alive(worker), timeout=10, step=0.1)
        assert crawl.stdout.read() == ""  # nothing holds the crawl's output open now

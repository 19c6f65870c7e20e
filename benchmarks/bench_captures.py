"""Captures: what an unchanged re-crawl adds, and reprocess against the crawl that fetched it.

    .venv/bin/python -m benchmarks.bench_captures [--feeds 20] [--per-feed 500] [--full-text never]

Crawls the mock site's big site (feeds x per-feed articles, images off) into a fresh SQLite
file, captures on. Then re-crawls it unchanged twice: as it is (the feeds answer 304 to the
validators of the first crawl) and with the validators forgotten, as a server without them
makes every poll (the feeds come whole again and are written as revisits). Then stops the
mock site and reprocesses every article from the captures. Reported: the crawl's seconds and
capture bytes, each re-crawl's added bytes and their ratio to the first crawl's, and
reprocess's seconds against the crawl's (the target: at least as fast, network off): CPU
seconds of the command and its processes (what a shared machine cannot blur), and wall-clock.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, archiver_env
from tests.mocksite import running_site
from tests.mocksite.bigsite import big_feed_paths


def run(command: list[str]) -> tuple[float, str]:
    """CPU seconds (its own and its processes', user and system) and stdout of one
    ``archiver`` child process; its wall-clock seconds in ``WALL``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "archiver", *command],
        cwd=ROOT, env=archiver_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    WALL.append(round(time.perf_counter() - started, 2))
    if completed.returncode != 0:
        sys.exit(f"{command[:6]} failed:\n{completed.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(cpu, 2), completed.stdout


WALL: list[float] = []
"""The wall-clock seconds of each run, in order (noisy on a shared machine: CPU is compared)."""


def capture_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.glob("*.warc.gz*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--per-feed", type=int, default=500)
    parser.add_argument("--full-text", default="never", choices=("never", "auto", "always"))
    options = parser.parse_args()
    report: dict[str, Any] = {
        "feeds": options.feeds,
        "articles": options.feeds * options.per_feed,
        "full_text": options.full_text,
    }
    with tempfile.TemporaryDirectory() as tmp:
        db, media = str(Path(tmp) / "a.db"), str(Path(tmp) / "media")
        captures = Path(tmp) / "captures"
        base = ["--db", db, "--media", media]
        crawl = [*base, "crawl", "--no-images", "--full-text", options.full_text]
        with running_site(big_feeds=options.feeds, big_per_feed=options.per_feed) as site:
            urls = [site.url(p) for p in big_feed_paths(options.feeds)]
            seconds, summary = run([*crawl, *urls])
            first = capture_bytes(captures)
            report["crawl"] = {
                "cpu_seconds": seconds,
                "wall_seconds": WALL[-1],
                "capture_bytes": first,
                "summary": summary.strip(),
            }
            _, summary = run([*crawl, *urls])
            conditional = capture_bytes(captures) - first
            report["recrawl_conditional"] = {
                "added_bytes": conditional,
                "ratio": round(conditional / first, 5),
                "summary": summary.strip(),
            }
            with sqlite3.connect(db) as connection:  # a server that sends no validators
                connection.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
            before = capture_bytes(captures)
            _, summary = run([*crawl, *urls])
            whole = capture_bytes(captures) - before
            report["recrawl_unconditional"] = {
                "added_bytes": whole,
                "ratio": round(whole / first, 5),
                "summary": summary.strip(),
            }
        # the mock site is stopped: reprocess has no network to use
        seconds, output = run([*base, "reprocess", "--json"])
        reprocessed = json.loads(output)
        report["reprocess"] = {
            "cpu_seconds": seconds,
            "wall_seconds": WALL[-1],
            "articles": reprocessed["articles"],
            "updated": reprocessed["updated"],
            "unchanged": reprocessed["unchanged"],
            "missing": reprocessed["missing"],
        }
        report["reprocess_to_crawl_cpu"] = round(seconds / report["crawl"]["cpu_seconds"], 2)
        report["reprocess_to_crawl_wall"] = round(WALL[-1] / report["crawl"]["wall_seconds"], 2)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

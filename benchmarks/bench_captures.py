"""Captures: what an unchanged re-crawl adds, and reprocess against the crawl that fetched it.

    .venv/bin/python -m benchmarks.bench_captures [--feeds 20] [--per-feed 500]
        [--pages-feeds N] [--pages-per-feed N] [--modes feeds,pages]

Two crawls of the mock site's big site (feeds x per-feed articles, images off), each into a
fresh SQLite file, captures on:

- ``feeds``: the whole-content feeds, ``--full-text never`` (``--full-text`` to change it):
  the capture store holds only the feeds, well compressed;
- ``pages``: the teaser-only feeds (``/big/summary/``), ``--full-text auto``: every article's
  page fetched, captured and extracted, as most archives hold them.

Each is then re-crawled unchanged twice, as scheduled sources (``archiver run --all``;
``archiver crawl`` sends no validators): as it is (the feeds answer 304 to the validators of
the first crawl) and with the validators forgotten, as a server without them makes every
poll (the feeds come whole again and are written as revisits; an unchanged entry's page is
not fetched again). Then the mock site is stopped and every
article is reprocessed from the captures. Reported per mode: the crawl's seconds and capture
bytes, each re-crawl's added bytes, their ratio to the first crawl's and the bytes of the
unconditional re-crawl's records by type (``warcinfo``, ``revisit``, ``request``...), what
the whole archive (database, captures, media) grew by in each against what the first crawl
left (``archive_ratio``), and reprocess's seconds against the crawl's (the target: at
least as fast, network off): CPU seconds of the command and its processes (what a shared
machine cannot blur), and wall-clock. The machine's load average is reported at the start
and the end.

The crawls link no stories of copies (``ARCHIVER_STORIES=false``) unless ``--stories``:
reprocess links none either, and the big site's generated articles, made of a few dozen
sentences, are nearly all "copies" of one another, whose linking then dominates the crawl.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT, archiver_env
from tests.mocksite import running_site
from tests.mocksite.bigsite import big_feed_paths, big_summary_feed_paths


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


def capture_files(directory: Path) -> set[Path]:
    return set(directory.glob("*.warc.gz*"))


def capture_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in capture_files(directory))


def archive_bytes(workdir: Path) -> int:
    """Every byte the archive holds: the database file (and a journal left beside it), the
    capture store and the media store."""
    return sum(
        path.stat().st_size
        for path in workdir.rglob("*")
        if path.is_file() and not path.name.endswith("-shm")
    )


def bytes_by_record_type(paths: set[Path]) -> dict[str, dict[str, int]]:
    """The records of *paths* by WARC type: how many, and their bytes in the files."""
    found: dict[str, dict[str, int]] = {}
    for path in sorted(paths):
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                record.content_stream().read()
                kind = found.setdefault(record.rec_type, {"records": 0, "bytes": 0})
                kind["records"] += 1
                kind["bytes"] += records.get_record_length()
    return found


def grown(workdir: Path, before: int, first: int) -> dict[str, Any]:
    """How much the whole archive grew in a re-crawl from its *before* bytes, and that
    against the *first* crawl's."""
    added = archive_bytes(workdir) - before
    return {"archive_added_bytes": added, "archive_ratio": round(added / first, 5)}


def load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def progress(report: dict[str, Any], step: str) -> None:
    """What is done so far, on stderr: a long run shows its figures as they come."""
    print(json.dumps({"mode": report["mode"], "done": step, **{step: report[step]}}),
          file=sys.stderr, flush=True)  # fmt: skip


def measure(
    name: str, feeds: int, per_feed: int, full_text: str, workdir: Path, *, stories: bool
) -> dict[str, Any]:
    """One mode's crawl, its two unchanged re-crawls and reprocess (see the module)."""
    db, media = str(workdir / "a.db"), str(workdir / "media")
    captures = workdir / "captures"
    base = ["--db", db, "--media", media]
    linking = [] if stories else ["-s", "ARCHIVER_STORIES=false"]
    crawl = [*base, "crawl", "--no-images", "--full-text", full_text, *linking]
    scheduled = [*base, "run", "--all", "--no-images", "--full-text", full_text, *linking]
    report: dict[str, Any] = {
        "mode": name,
        "feeds": feeds,
        "articles": feeds * per_feed,
        "full_text": full_text,
        "stories": stories,
        "load_at_start": load(),
    }
    paths = big_summary_feed_paths(feeds) if name == "pages" else big_feed_paths(feeds)
    with running_site(big_feeds=feeds, big_per_feed=per_feed) as site:
        urls = [site.url(p) for p in paths]
        seconds, summary = run([*crawl, *urls])
        first, first_archive = capture_bytes(captures), archive_bytes(workdir)
        report["crawl"] = {
            "cpu_seconds": seconds,
            "wall_seconds": WALL[-1],
            "capture_bytes": first,
            "archive_bytes": first_archive,
            "records": bytes_by_record_type(capture_files(captures)),
            "summary": summary.strip(),
        }
        progress(report, "crawl")
        with sqlite3.connect(db) as connection:  # the crawl's sources, now scheduled
            connection.execute("UPDATE sources SET crawl_interval = 1800, current_interval = 1800")
        _, summary = run(scheduled)
        conditional = capture_bytes(captures) - first
        report["recrawl_conditional"] = {
            "added_bytes": conditional,
            "ratio": round(conditional / first, 5),
            **grown(workdir, first_archive, first_archive),
            "summary": summary.strip(),
        }
        progress(report, "recrawl_conditional")
        with sqlite3.connect(db) as connection:  # a server that sends no validators
            connection.execute("UPDATE sources SET etag = NULL, last_modified = NULL")
        before, earlier = capture_bytes(captures), capture_files(captures)
        before_archive = archive_bytes(workdir)
        _, summary = run(scheduled)
        whole = capture_bytes(captures) - before
        report["recrawl_unconditional"] = {
            "added_bytes": whole,
            "ratio": round(whole / first, 5),
            **grown(workdir, before_archive, first_archive),
            "records": bytes_by_record_type(capture_files(captures) - earlier),
            "summary": summary.strip(),
        }
        progress(report, "recrawl_unconditional")
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
        "pages_read": reprocessed["pages_read"],
    }
    report["reprocess_to_crawl_cpu"] = round(seconds / report["crawl"]["cpu_seconds"], 2)
    report["reprocess_to_crawl_wall"] = round(WALL[-1] / report["crawl"]["wall_seconds"], 2)
    report["load_at_end"] = load()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--per-feed", type=int, default=500)
    parser.add_argument("--pages-feeds", type=int, help="the pages mode's feeds (--feeds)")
    parser.add_argument("--pages-per-feed", type=int, help="its articles a feed (--per-feed)")
    parser.add_argument("--full-text", default="never", choices=("never", "auto", "always"))
    parser.add_argument("--modes", default="feeds,pages", help="feeds, pages or both")
    parser.add_argument("--stories", action="store_true", help="link copies while crawling")
    options = parser.parse_args()
    modes = [mode.strip() for mode in options.modes.split(",") if mode.strip()]
    if not modes or set(modes) - {"feeds", "pages"}:
        parser.error("--modes: feeds, pages or feeds,pages")
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            workdir = Path(tmp) / mode
            workdir.mkdir()
            if mode == "feeds":
                sizes = (options.feeds, options.per_feed, options.full_text)
            else:
                sizes = (
                    options.pages_feeds or options.feeds,
                    options.pages_per_feed or options.per_feed,
                    "auto",
                )
            reports.append(measure(mode, *sizes, workdir, stories=options.stories))
            print(json.dumps(reports[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    print(json.dumps(reports, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

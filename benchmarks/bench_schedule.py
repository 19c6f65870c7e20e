"""Cost of scheduled runs over many sources where nothing changed (issue 6's targets).

    .venv/bin/python -m benchmarks.bench_schedule [--sources 1000] [--per-feed 5]

Against the mock site's big site (one feed per source, articles with shared images), in one
run: the first ``run --all`` (everything new) is the baseline; then a second ``run --all``
over unchanged sources (conditional requests only), then ``run --due`` (nothing due). It
reports requests, response bytes and seconds of each, and the re-crawl's share of the first
crawl's requests (target: at most 5%).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import run_archiver
from tests.mocksite import running_site


def timed(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = run_archiver(*args, timeout=3600)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"archiver {' '.join(args)} failed:\n{result.stderr}")
    return seconds, result.stdout.strip()


def cost(site: Any) -> dict[str, int]:
    log = site.requests()
    return {
        "requests": len(log),
        "conditional": sum(
            1 for r in log if {"if-none-match", "if-modified-since"} & set(r["headers"])
        ),
        "not_modified": sum(1 for r in log if r["status"] == 304),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--per-feed", type=int, default=5)
    options = parser.parse_args()
    report: dict[str, Any] = {"sources": options.sources, "per_feed": options.per_feed}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_site(big_feeds=options.sources, big_per_feed=options.per_feed) as site,
    ):
        db = f"sqlite:///{Path(tmp) / 'archive.db'}"
        media = str(Path(tmp) / "media")
        opml = Path(tmp) / "big.opml"
        opml.write_bytes(site.get("/big/opml.xml").body)
        run_archiver("--db", db, "sources", "import", str(opml), "--every", "1h")
        for name, args in (
            ("first", ("run", "--all")),
            ("unchanged", ("run", "--all")),
            ("nothing_due", ("run", "--due")),
        ):
            site.reset_log()
            seconds, summary = timed("--db", db, "--media", media, *args)
            report[name] = {"seconds": round(seconds, 2), **cost(site), "summary": summary}
    first, again = report["first"]["requests"], report["unchanged"]["requests"]
    report["unchanged_share_of_first_requests"] = round(again / first, 4) if first else None
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Crawl throughput and memory: the archiver against bare Scrapy on the same feeds.

    .venv/bin/python -m benchmarks.bench_crawl [--feeds 20] [--per-feed 50] [--images]

Both crawl the mock site's big site in a child process on this machine, one after the other:
the baseline is a bare Scrapy spider that fetches the same feed URLs and keeps nothing; the
archiver parses every entry, normalizes it and commits it to a fresh SQLite file (images off
unless --images). Reported: seconds, articles per second, peak memory of each, and the
ratio archiver/baseline (what the archiving itself costs on top of fetching).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT
from tests.mocksite import running_site
from tests.mocksite.bigsite import big_feed_paths

BASELINE = """
import sys
from scrapy import Spider
from scrapy.crawler import CrawlerProcess

class Fetch(Spider):
    name = "fetch"
    custom_settings = {"LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
                       "AUTOTHROTTLE_ENABLED": True, "AUTOTHROTTLE_START_DELAY": 0.25,
                       "ROBOTSTXT_OBEY": True}

    async def start(self):
        for url in sys.argv[1:]:
            yield self.make_request(url)

    def make_request(self, url):
        from scrapy import Request
        return Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response):
        return None

process = CrawlerProcess()
process.crawl(Fetch)
process.start()
"""


def measure(command: list[str]) -> dict[str, float]:
    """Seconds and peak resident memory (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(f"{command[:4]} failed:\n{completed.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest child so far: run the larger one last.
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(max(peak, before) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--per-feed", type=int, default=50)
    parser.add_argument("--images", action="store_true", help="Archive the images too.")
    options = parser.parse_args()
    articles = options.feeds * options.per_feed
    report: dict[str, Any] = {"feeds": options.feeds, "articles": articles}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_site(big_feeds=options.feeds, big_per_feed=options.per_feed) as site,
    ):
        urls = [site.url(p) for p in big_feed_paths(options.feeds)]
        report["baseline"] = measure([sys.executable, "-c", BASELINE, *urls])
        command = [sys.executable, "-m", "archiver", "--db", str(Path(tmp) / "a.db"),
                   "--media", str(Path(tmp) / "media"), "crawl"]  # fmt: skip
        if not options.images:
            command.append("--no-images")
        report["archiver"] = measure([*command, *urls])
    for name in ("baseline", "archiver"):
        report[name]["articles_per_second"] = round(articles / report[name]["seconds"], 1)
    report["time_ratio"] = round(report["archiver"]["seconds"] / report["baseline"]["seconds"], 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Crawl speed and memory: the archiver against the Scrapy program a user would write instead.

    .venv/bin/python -m benchmarks.bench_crawl [--feeds 21] [--per-feed 50] [--runs 3]
                                               [--memory] [--json]

Everything runs on this machine against the mock site's big site (``tests/mocksite``), each
crawl in a child process of its own, the two sides of a comparison alternating (A B, B A,
A B, ...) so that the machine's load falls on both alike; the median of ``--runs`` runs is
reported with its spread (lowest-highest). Both sides get the same concurrency settings
(:data:`SAME_SETTINGS`: 16 requests at once, 4 per host, AutoThrottle from 0.25 s, robots.txt
obeyed).

- **P1, full-content feeds with their images**: ``archiver crawl`` of the big site's feeds
  (RSS ``content:encoded``, Atom, JSON Feed; ``--full-text never``, so it fetches exactly the
  feeds and their images) against a bare Scrapy spider that fetches the same feeds, then each
  image they show once, and keeps nothing.
- **P2, summary-only feeds**: ``archiver crawl`` of the big site's teaser feeds (every
  article's page fetched, extracted and merged, its images archived) against a Scrapy spider
  that fetches the same feeds, pages and images and calls ``trafilatura.extract`` on each
  page in its callback.
- **Unchanged re-crawl**: P1's feeds as scheduled sources (``sources import`` of the big
  site's OPML): ``archiver run --all`` into a fresh archive, then at once again (conditional
  requests: every feed answers 304), the second against the first.
- **For the record**: a plain threaded ``urllib`` fetcher (16 threads) of P1's URLs.
- ``--memory``: peak RSS of P1's crawl at 1,000 and 10,000 articles (20 feeds of 50, then
  of 500), one run each.

Reported per crawl: wall seconds, CPU seconds (user + system, the crawl's own worker processes
included) per article, and peak RSS (of its largest process). The ratio is baseline time /
archiver time: 1.0 or more means the archiver takes no longer than the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.mocksite import ROOT, running_site
from tests.mocksite.bigsite import big_feed_paths, big_summary_feed_paths

SAME_SETTINGS = {
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
    "AUTOTHROTTLE_ENABLED": "True",
    "AUTOTHROTTLE_START_DELAY": "0.25",
    "AUTOTHROTTLE_TARGET_CONCURRENCY": "4.0",
    "ROBOTSTXT_OBEY": "True",
}
"""The concurrency settings both sides of every comparison run with."""

SCRAPY_PROGRAM = """
import json, re, sys
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess

IMAGES = re.compile(rb"/images/gen/[0-9]+[.](?:png|jpg|webp)")
LINKS = re.compile(rb"<link>([^<]+)</link>")
mode, settings, urls = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
extract = None
if mode == "pages":
    from trafilatura import extract


class Fetch(Spider):
    name = "fetch"

    async def start(self):
        for url in urls:
            yield Request(url, callback=self.feed)

    def images(self, response):
        for path in dict.fromkeys(IMAGES.findall(response.body)):
            yield Request(response.urljoin(path.decode()), callback=self.image)

    def feed(self, response):
        if mode == "pages":
            for link in LINKS.findall(response.body)[1:]:  # the channel's own link first
                yield Request(link.decode(), callback=self.page)
        else:
            yield from self.images(response)

    def page(self, response):
        extract(response.text, url=response.url)
        yield from self.images(response)

    def image(self, response):
        return None


process = CrawlerProcess({**settings, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False})
process.crawl(Fetch)
process.start()
"""
"""The program a user would write instead: Scrapy, no pipeline; with ``pages``, trafilatura
on each page in the callback. Each feed's image (or page) URLs are found in its body."""

URLLIB_PROGRAM = """
import re, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor

IMAGES = re.compile(rb"/images/gen/[0-9]+[.](?:png|jpg|webp)")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def get(url):
    with opener.open(url, timeout=60) as response:
        return response.read()

with ThreadPoolExecutor(16) as pool:
    bodies = list(pool.map(get, sys.argv[1:]))
    paths = {path.decode() for body in bodies for path in IMAGES.findall(body)}
    list(pool.map(get, sorted(urllib.parse.urljoin(sys.argv[1], path) for path in paths)))
"""


def measure(command: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + system, its waited-for children included) and peak
    RSS (MiB, of its largest process) of one child process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode("utf-8", "replace")[-3000:]
            sys.exit(f"{' '.join(command[:6])}... exited {process.returncode}:\n{tail}")
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
    }


P1_FLAGS = ["--full-text", "never"] + [f"-s{name}={value}" for name, value in SAME_SETTINGS.items()]
"""P1's flags: no page fetched (the feeds are whole), the same concurrency as the baseline."""


def archiver_command(workdir: Path, *arguments: str) -> list[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return [sys.executable, "-m", "archiver", "--db", str(workdir / "archive.db"),
            "--media", str(workdir / "media"), *arguments]  # fmt: skip


def archiver_crawl(urls: list[str], workdir: Path, *extra: str) -> list[str]:
    settings = [f"-s{name}={value}" for name, value in SAME_SETTINGS.items()]
    return archiver_command(workdir, "crawl", *urls, *extra, *settings)


def scrapy_program(mode: str, urls: list[str], tmp: Path) -> list[str]:
    # A file, not -c: Scrapy reads a generator callback's source (to warn about a return
    # value), and a callback without one fails, so no image or page would be fetched.
    program = tmp / "scrapy_program.py"
    program.write_text(SCRAPY_PROGRAM, "utf-8")
    return [sys.executable, str(program), mode, json.dumps(SAME_SETTINGS), *urls]


def summary(runs: list[dict[str, float]], articles: int) -> dict[str, Any]:
    """Median and spread of the runs of one side."""
    seconds = [run["seconds"] for run in runs]
    cpu = [run["cpu_seconds"] for run in runs]
    return {
        "seconds": round(statistics.median(seconds), 2),
        "spread": [round(min(seconds), 2), round(max(seconds), 2)],
        "cpu_seconds": round(statistics.median(cpu), 2),
        "cpu_ms_per_article": round(1000 * statistics.median(cpu) / articles, 2),
        "peak_rss_mib": round(max(run["peak_rss_mib"] for run in runs), 1),
        "runs": [round(s, 2) for s in seconds],
    }


def alternate(
    runs: int,
    archiver: Callable[[int], dict[str, float]],
    baseline: Callable[[int], dict[str, float]],
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """*runs* runs of each, alternating which goes first."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for run in range(runs):
        if run % 2 == 0:
            ours.append(archiver(run))
            theirs.append(baseline(run))
        else:
            theirs.append(baseline(run))
            ours.append(archiver(run))
    return ours, theirs


def compare(
    name: str, articles: int, ours: list[dict[str, float]], theirs: list[dict[str, float]]
) -> dict[str, Any]:
    archiver, baseline = summary(ours, articles), summary(theirs, articles)
    return {
        "name": name,
        "articles": articles,
        "archiver": archiver,
        "baseline": baseline,
        "ratio": round(baseline["seconds"] / archiver["seconds"], 2),
    }


def run_comparisons(options: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    feeds, per_feed, runs = options.feeds, options.per_feed, options.runs
    articles = feeds * per_feed
    report: dict[str, Any] = {"feeds": feeds, "articles": articles, "runs": runs}
    with running_site(big_feeds=feeds, big_per_feed=per_feed) as site:
        full = [site.url(path) for path in big_feed_paths(feeds)]
        teasers = [site.url(path) for path in big_summary_feed_paths(feeds)]
        firsts: list[dict[str, float]] = []
        recrawls: list[dict[str, float]] = []

        opml = tmp / "big.opml"
        opml.write_bytes(site.get("/big/opml.xml").body)

        def p1(run: int) -> dict[str, float]:
            first = measure(archiver_crawl(full, tmp / f"p1-{run}", "--full-text", "never"))
            # The same feeds as scheduled sources: the first run, then at once an unchanged
            # one (conditional requests: every feed answers 304).
            workdir = tmp / f"recrawl-{run}"
            measure(archiver_command(workdir, "sources", "import", str(opml)))
            firsts.append(measure(archiver_command(workdir, "run", "--all", *P1_FLAGS)))
            recrawls.append(measure(archiver_command(workdir, "run", "--all", *P1_FLAGS)))
            return first

        ours, theirs = alternate(runs, p1, lambda run: measure(scrapy_program("images", full, tmp)))
        report["p1"] = compare("P1 full-content feeds + images", articles, ours, theirs)
        recrawl, first = summary(recrawls, articles), summary(firsts, articles)
        report["recrawl"] = {
            "first": first,
            "unchanged": recrawl,
            "fraction": round(recrawl["seconds"] / first["seconds"], 3),
        }
        urllib_runs = [measure([sys.executable, "-c", URLLIB_PROGRAM, *full]) for _ in range(runs)]
        report["urllib"] = summary(urllib_runs, articles)

        def p2(run: int) -> dict[str, float]:
            return measure(archiver_crawl(teasers, tmp / f"p2-{run}"))

        ours, theirs = alternate(
            runs, p2, lambda run: measure(scrapy_program("pages", teasers, tmp))
        )
        report["p2"] = compare("P2 teaser feeds, pages extracted + images", articles, ours, theirs)
    if options.memory:
        report["memory"] = {}
        for per in (50, 500):
            with running_site(big_feeds=20, big_per_feed=per) as site:
                urls = [site.url(path) for path in big_feed_paths(20)]
                crawl = measure(archiver_crawl(urls, tmp / f"memory-{per}", "--full-text", "never"))
                report["memory"][str(20 * per)] = {
                    "seconds": round(crawl["seconds"], 2),
                    "peak_rss_mib": round(crawl["peak_rss_mib"], 1),
                }
    return report


def table(report: dict[str, Any]) -> str:
    """The report as the README's Markdown table."""
    lines = [
        "| crawl | archiver | baseline | ratio (baseline/archiver time) |",
        "| --- | --- | --- | --- |",
    ]

    def side(figures: dict[str, Any]) -> str:
        low, high = figures["spread"]
        return (
            f"{figures['seconds']} s ({low}–{high}), "
            f"{figures['cpu_ms_per_article']} ms CPU/article, {figures['peak_rss_mib']} MiB"
        )

    for key, baseline in (("p1", "bare Scrapy, same URLs"), ("p2", "Scrapy + trafilatura")):
        row = report[key]
        lines.append(
            f"| {row['name']} ({row['articles']:,} articles) | {side(row['archiver'])} "
            f"| {baseline}: {side(row['baseline'])} | {row['ratio']} |"
        )
    recrawl = report["recrawl"]
    lines.append(
        f"| unchanged `run --all` of P1's feeds | {side(recrawl['unchanged'])} | first run: "
        f"{side(recrawl['first'])} | {recrawl['fraction']:.1%} of the first |"
    )
    lines.append(f"| threaded urllib, P1's URLs (for the record) | | {side(report['urllib'])} | |")
    for articles, figures in report.get("memory", {}).items():
        lines.append(
            f"| peak RSS, P1 at {int(articles):,} articles | {figures['peak_rss_mib']} MiB "
            f"({figures['seconds']} s) | | |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--feeds", type=int, default=21)
    parser.add_argument("--per-feed", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="Runs of each side (median).")
    parser.add_argument("--memory", action="store_true", help="Peak RSS at 1,000 and 10,000.")
    parser.add_argument("--json", action="store_true", help="The figures as JSON too.")
    options = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        report = run_comparisons(options, Path(tmp))
    report["machine"] = {
        "cores": os.cpu_count(),
        "load_before": [round(x, 1) for x in load],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }
    print(table(report))
    print(f"\n{os.cpu_count()} cores; load average before {load[0]:.1f}, after "
          f"{report['machine']['load_after'][0]:.1f}")  # fmt: skip
    if options.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

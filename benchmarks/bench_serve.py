"""The web reader's latency on a synthetic archive (SQLite by default), run by hand.

    .venv/bin/python benchmarks/bench_serve.py --size 1000000 --db /tmp/bench-search.db

The archive is ``bench_search``'s (generated through ``archive.bulk.store`` the first time,
reused afterwards). Each page is requested through the whole application in-process
(Starlette's test client: routing, the guard's headers, the storage queries, the templates),
without the network. Prints p50/p95/max per page over ``--runs`` runs after a warm-up, and
beside each search page the bare ``archive.articles.search`` of the same query in the same
run (what ``archiver search`` costs), as the baseline. Targets (issue #15): the search page
under 100 ms p95, an article page under 50 ms p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient

from archiver.storage import Archive, SearchFilters
from archiver.web import ReaderConfig, create_app
from benchmarks.bench_search import QUERIES, fill


def measure(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def p95(times: list[float]) -> float:
    return times[max(0, int(len(times) * 0.95) - 1)]


def line(label: str, text: str, times: list[float], extra: str = "") -> str:
    return (
        f"{label:<24} {text:<28} {statistics.median(times):>8.1f} {p95(times):>8.1f} "
        f"{times[-1]:>8.1f}  {extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/bench-search.db")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--articles", type=int, default=200, help="article pages to time")
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    archive = Archive(url)
    fill(archive, args.size)
    app = create_app(ReaderConfig(database_url=url), archive)
    client = TestClient(app)
    print(f"{'page':<24} {'query':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  baseline")
    failures = []
    pages = [("newest (no query)", None), *QUERIES]
    for label, query in pages:
        params = {"q": query} if query else {}

        def page(params: dict[str, str] = params) -> None:
            response = client.get("/", params=params)
            assert response.status_code == 200, response.text[:200]

        def bare(query: str | None = query) -> None:
            archive.articles.search(SearchFilters(query=query, limit=50))

        times = measure(page, args.runs)
        base = measure(bare, args.runs)
        print(line(f"search: {label}", query or "", times, f"search() p95 {p95(base):.1f} ms"))
        if p95(times) >= 100:
            failures.append(f"search page {query!r}: p95 {p95(times):.1f} ms")
    # a second page, by the cursor of the first
    first = client.get("/api/search", params={"q": "market", "limit": 50})
    following = first.headers["link"].split(">", 1)[0].lstrip("<")
    times = measure(lambda: client.get(following), args.runs)
    print(line("search: page 2 (cursor)", "market", times))
    newest = archive.articles.search(SearchFilters(limit=1))[0]["id"]
    rng = random.Random(15)
    ids = [rng.randint(1, newest) for _ in range(args.articles)]
    iterator = iter(ids * 2)

    def article() -> None:
        response = client.get(f"/articles/{next(iterator)}")
        assert response.status_code == 200, response.text[:200]

    times = measure(article, args.articles - 1)
    base_iterator = iter(ids * 2)
    base = measure(lambda: archive.articles.get(next(base_iterator)), args.articles - 1)
    baseline = f"get() p95 {p95(base):.1f} ms"
    print(line("article page", f"{args.articles} random ids", times, baseline))
    if p95(times) >= 50:
        failures.append(f"article page: p95 {p95(times):.1f} ms")
    for path in ("/feed.atom?q=谷歌", "/api/search?q=谷歌", "/sources", "/stats"):
        times = measure(lambda path=path: client.get(path), max(5, args.runs // 3))
        print(line(path.split("?")[0], path.partition("?")[2], times))
    archive.close()
    print("targets met" if not failures else "MISSED: " + "; ".join(failures))


if __name__ == "__main__":
    main()

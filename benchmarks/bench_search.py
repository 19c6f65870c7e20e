"""Search latency on a synthetic archive (SQLite by default), run by hand.

    .venv/bin/python benchmarks/bench_search.py --size 1000000 --db /tmp/bench-search.db

The archive is generated through the storage layer (``archive.bulk.store``) the first
time and reused afterwards (``--size`` more articles are added only when it holds fewer).
Prints p50/p95/max per query over ``--runs`` runs, after one warm-up run each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.storage import Archive, SearchFilters
from benchmarks._synthetic import SOURCES, article_items

QUERIES = [
    ("3-char Chinese", "英伟达"),
    ("3-char Chinese", "特斯拉"),
    ("English word", "keras"),
    ("English word, common", "market"),
    ("2-char Chinese", "谷歌"),
    ("phrase, exclusion", '"the market" -bitcoin'),
    ("title: and category:", "title:特斯拉 category:资讯"),
]


def fill(archive: Archive, size: int, batch_size: int = 2000) -> None:
    with archive.engine.connect() as connection:
        from sqlalchemy import text

        have = connection.execute(text("SELECT count(*) FROM articles")).scalar() or 0
    if have >= size:
        print(f"archive holds {have:,} articles")
        return
    ids = {
        key: archive.sources.ensure(
            f"https://{key}.example.com/feed", kind="rss", name=key, categories=categories
        ).id
        for key, categories in SOURCES
    }
    started = time.perf_counter()
    batch = []
    for key, item in article_items(size - have, start=have):
        batch.append((item, ids[key], item.key or item.url))
        if len(batch) >= batch_size:
            archive.bulk.store(batch)
            batch.clear()
    if batch:
        archive.bulk.store(batch)
    elapsed = time.perf_counter() - started
    print(
        f"generated {size - have:,} articles in {elapsed:.0f}s ({(size - have) / elapsed:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--db", default="/tmp/bench-search.db")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    archive = Archive(url)
    fill(archive, args.size)
    print(f"{'query':<24} {'text':<28} {'hits':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, query in QUERIES:
        filters = SearchFilters(query=query, limit=args.limit)
        hits = len(archive.articles.search(filters))  # warm-up
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            archive.articles.search(filters)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{label:<24} {query:<28} {hits:>5} {statistics.median(times):>8.1f} "
            f"{p95:>8.1f} {times[-1]:>8.1f}"
        )
    archive.close()


if __name__ == "__main__":
    main()

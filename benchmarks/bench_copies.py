"""Linking copies at scale: fingerprint and lookup per article, in an archive of --size
articles (SQLite by default) against one of --baseline articles, run by hand.

    .venv/bin/python benchmarks/bench_copies.py --size 1000000 --db /tmp/bench-copies.db

The archive is made the first time and reused afterwards. --pool of its articles are
synthetic texts (``benchmarks/_synthetic.py``, half Chinese, half English) with the
fingerprints ``archive.stories.link`` gives them; the others are article rows whose
fingerprints are random band keys, which is what the bands of unrelated texts are (each a
hash), so the indexes hold --size rows as an archive of that many texts would, without
generating and fingerprinting a million texts first (hours on a loaded 2-core machine).
Then --probes new articles are archived, half of them copies of pool articles (an
editor's note, an advertisement, a sentence dropped), half new texts, --group at a time
(100, the crawl's committed group, by default), and each group is linked by
``archive.stories.link(ids)``, the step the store pipeline runs after each commit: its time
over the group's size is the figure per article (fingerprint, band lookups, the check of
the candidates' texts, the story and its origin, the commit): wall-clock, and the CPU time
of this process (``cpu ms``, what a busy machine does not inflate), and that CPU time's
``lookup`` and ``stories`` phases (:data:`PHASES`). ``--group 1`` links them one by one.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

import archiver.storage.stories as stories_module
from archiver.items import ArticleItem
from archiver.storage import Archive
from archiver.storage.models import Article, Fingerprint
from archiver.storage.search import defer_indexing, index_articles
from archiver.storage.sql import insert_many
from archiver.stories.fingerprint import BANDS, fingerprint
from benchmarks._synthetic import article_items


def fill(archive: Archive, size: int, pool: int, batch_size: int = 20_000) -> None:
    """*size* articles: the first *pool* synthetic texts, linked; the rest rows with random
    band keys (see the module docstring)."""
    with archive.session() as session:
        have = session.scalar(select(func.count()).select_from(Article)) or 0
    if have >= size:
        print(f"archive holds {have:,} articles")
        return
    started = time.perf_counter()
    source = archive.sources.ensure("https://pool.example.com/feed", kind="rss", name="pool")
    if have < pool:
        items = [item for _, item in article_items(pool - have, start=have)]
        results = archive.bulk.store([(item, source.id, item.key or item.url) for item in items])
        archive.stories.link([result.article_id for result in results])
        have = pool
    rng = random.Random(size)
    now = datetime.now(UTC)
    while have < size:
        count = min(batch_size, size - have)
        with archive.session() as session:
            defer_indexing(session)  # no text to index: the search index is not measured
            rows = [
                {
                    "source_id": source.id,
                    "guid": f"row-{have + n}",
                    "url": f"https://pool.example.com/row/{have + n}",
                    "authors": [],
                    "authors_raw": [],
                    "raw": {},
                    "first_seen": now,
                    "last_seen": now,
                    "page_failures": 0,
                }
                for n in range(count)
            ]
            insert_many(session, Article, rows)
            ids = session.scalars(
                select(Article.id).where(Article.guid.in_([r["guid"] for r in rows]))
            ).all()
            index_articles(session, [])
            insert_many(
                session,
                Fingerprint,
                [
                    {
                        "article_id": article_id,
                        "content_hash": None,
                        "size": 100,
                        **{f"band_{band}": rng.getrandbits(63) for band in range(BANDS)},
                    }
                    for article_id in ids
                ],
            )
        have += count
    elapsed = time.perf_counter() - started
    print(f"made the archive up to {size:,} articles in {elapsed:.0f}s")


def probes(
    archive: Archive, count: int, pool: int, seed: int = 11
) -> list[tuple[ArticleItem, int, bool]]:
    """*count* new articles: (item, source id, whether it copies an archived one). The
    copies are of pool texts (the archive's first *pool* ids), never of rows without text
    or of earlier runs' probes, so that an archive of any size gives stories of one size."""
    rng = random.Random(seed)
    with archive.session() as session:
        originals = session.execute(
            select(Article.id, Article.content_text, Article.title).where(
                Article.id.in_(rng.sample(range(1, pool + 1), min(count, pool))),
                Article.content_text.is_not(None),
            )
        ).all()
    source = archive.sources.ensure("https://copier.example.com/feed", kind="rss", name="copier")
    made: list[tuple[ArticleItem, int, bool]] = []
    run = time.time_ns()  # new articles on every run, also of a reused archive
    fresh = article_items(count, seed=seed + 1, start=3_000_000)  # beyond any --size
    for index in range(count):
        if index % 2 == 0 and originals:
            _, text, title = originals[(index // 2) % len(originals)]
            lines = (text or "").replace("。", "。\n").splitlines()
            variant = index % 3
            if variant == 0:
                lines.insert(0, "编者按：本文来自微信公众号“原作者”，经授权转载。")
            elif variant == 1:
                lines.insert(len(lines) // 2, "【广告】扫码领取新人专享礼包，名额有限！")
            elif len(lines) > 4:
                lines.pop()
            body = "\n".join(lines)
            copied = True
        else:
            _, item = next(fresh)
            body, title, copied = item.content_text or "", item.title, False
        url = f"https://copier.example.com/{run}/{index}"
        made.append(
            (
                ArticleItem(
                    url=url,
                    source_url=source.url,
                    key=url,
                    title=title,
                    content_html="".join(f"<p>{line}</p>" for line in body.splitlines()),
                    content_text=body,
                ),
                source.id,
                copied,
            )
        )
    return made


PHASES = {
    "lookup": ("shingles", "fingerprint_of", "_candidates", "are_copies"),
    "stories": ("_join_copies", "_obey_together"),
}
"""What ``archiver.storage.stories.link`` spends, by the functions it calls: ``lookup`` is
the fingerprint and the look-up (shingling the new texts and the candidates', the MinHash,
the band query, the resemblance check); ``stories`` joins the copies found into stories
and chooses their origins. The rest is reading the texts, writing the fingerprints and the
commit."""


@contextmanager
def phases(spent: Counter[str]) -> Iterator[None]:
    """Add the CPU time of each phase's functions, called by ``link``, to *spent* (ms): a
    lookup made inside a join counts as lookup, not twice."""
    saved = {}
    outer: list[str] = []  # the phases being timed, innermost last
    for phase, names in PHASES.items():
        for name in names:
            function = saved[name] = getattr(stories_module, name)

            def timed(*args: Any, _f: Any = function, _phase: str = phase, **kwargs: Any) -> Any:
                used = time.process_time()
                outer.append(_phase)
                try:
                    return _f(*args, **kwargs)
                finally:
                    outer.pop()
                    elapsed = (time.process_time() - used) * 1000
                    spent[_phase] += elapsed
                    if outer:
                        spent[outer[-1]] -= elapsed

            setattr(stories_module, name, timed)
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(stories_module, name, function)


def measure(archive: Archive, count: int, pool: int, group: int) -> dict[str, float]:
    """Archive *count* new articles *group* at a time and link each group as the store
    pipeline links a committed group (``archive.stories.link(ids)``); per-article times in
    ms (a group's time over its size), the CPU time of each of :data:`PHASES`, and recall."""
    items = probes(archive, count, pool, seed=time.time_ns())
    times, cpu, found, copies = [], [], 0, 0
    spent: Counter[str] = Counter()
    for start in range(0, len(items), group):
        part = items[start : start + group]
        ids = [archive.articles.store(i, s, i.key or i.url).article_id for i, s, _ in part]
        with phases(spent):
            started, used = time.perf_counter(), time.process_time()
            stories = archive.stories.link(ids)
            times.append((time.perf_counter() - started) * 1000 / len(part))
            cpu.append((time.process_time() - used) * 1000 / len(part))
        for article_id, (_, _, copied) in zip(ids, part, strict=True):
            copies += copied
            found += copied and stories[article_id] is not None
    times.sort()
    return {
        "mean": statistics.fmean(times),
        "p50": times[len(times) // 2],
        "p95": times[int(len(times) * 0.95)],
        "cpu": statistics.fmean(cpu),
        **{phase: spent[phase] / len(items) for phase in PHASES},
        "recall": found / copies if copies else 1.0,
    }


def prepared(url: str, size: int, pool: int) -> Archive:
    archive = Archive(url)
    fill(archive, size, min(pool, size))
    return archive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--db", default="/tmp/bench-copies.db")
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=5000)
    parser.add_argument(
        "--group",
        type=int,
        default=100,
        help="articles linked at once: 100, a crawl's committed group (ARCHIVER_STORE_BATCH); "
        "1, one by one",
    )
    args = parser.parse_args()
    fingerprint("预热 warm-up")  # the Traditional-to-Simplified table: built once per process
    results = {}
    for label, size, db in (
        ("baseline", args.baseline, f"{args.db}.baseline"),
        ("archive", args.size, args.db),
    ):
        url = db if "://" in db else f"sqlite:///{db}"
        archive = prepared(url, size, args.pool)
        try:
            results[label] = measure(archive, args.probes, min(args.pool, size), args.group)
        finally:
            archive.close()
    print(f"{'archive':<10} {'articles':>10} {'mean ms':>8} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'cpu ms':>7} {'lookup':>7} {'stories':>7} {'recall':>6}")  # fmt: skip
    for label, size in (("baseline", args.baseline), ("archive", args.size)):
        r = results[label]
        print(
            f"{label:<10} {size:>10,} {r['mean']:>8.3f} {r['p50']:>7.3f} {r['p95']:>7.3f} "
            f"{r['cpu']:>7.3f} {r['lookup']:>7.3f} {r['stories']:>7.3f} {r['recall']:>6.3f}"
        )
    ratio = results["archive"]["cpu"] / results["baseline"]["cpu"]
    lookup = results["archive"]["lookup"] / results["baseline"]["lookup"]
    print(
        f"{args.size:,} articles cost {ratio:.2f}× the CPU time per article of "
        f"{args.baseline:,} ({lookup:.2f}× for the lookup); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()

"""Bulk import and Hexo export throughput, run by hand.

    .venv/bin/python benchmarks/bench_import_export.py --posts 20000 --export 10000

Writes ``--posts`` synthetic Hexo posts in the seed's format (mixed Chinese and English, the
seed's front-matter, ``Invalid Date`` in one post of fifty) to a temporary directory, imports
them into a fresh SQLite archive (``archiver import``'s code path), or into the archive
``--db`` names (say a copy of ``bench_search``'s million articles: the import's speed where
the trigram index is already big), then exports the newest ``--export`` articles to a Hexo
site twice (the second run is the incremental no-op).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.export.hexo import hexo_date, render_post
from archiver.export.importer import import_posts
from archiver.export.paths import hexo_title_name, safe_name
from archiver.export.site import export_site
from archiver.storage import Archive, SearchFilters
from benchmarks._synthetic import article_items


def write_posts(root: Path, count: int) -> None:
    posts = root / "source" / "_posts"
    for n, (source, item) in enumerate(article_items(count)):
        categories = {
            "36kr": ["新媒体", "36kr", "资讯"],
            "jinse": ["新媒体", "金色财经", "快讯"],
        }.get(source, ["tech", source, "news"])
        post = {
            "id": n,
            "title": f"{item.title} {n}",
            "source": source,
            "source_info": {"categories": categories, "title": categories[1]},
            "categories": categories,
            "headimg": f"https://picsum.photos/400/300?random={n}",
            "thumbnail": f"https://picsum.photos/400/300?random={n}",
            "published": None if n % 50 == 0 else item.published.isoformat(),  # type: ignore[union-attr]
            "published_raw": "Invalid Date",
            "authors": [],
        }
        hexo_date(post)
        directory = posts.joinpath(*categories)
        directory.mkdir(parents=True, exist_ok=True)
        name = safe_name(hexo_title_name(str(post["title"])), suffix=".md")
        (directory / name).write_text(render_post(post, item.content_html or ""), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--export", type=int, default=10_000)
    parser.add_argument(
        "--workers", type=int, default=None, help="reader processes (0: read in-process)"
    )
    parser.add_argument(
        "--db", default=None, help="import into this SQLite file (default: a new one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        started = time.perf_counter()
        write_posts(root / "blog", args.posts)
        print(f"wrote {args.posts:,} posts in {time.perf_counter() - started:.1f}s")
        archive = Archive(f"sqlite:///{args.db or root / 'archive.db'}")
        with archive.engine.connect() as connection:
            held = connection.exec_driver_sql("SELECT count(*) FROM articles").scalar()
        print(f"archive holds {held:,} articles")
        started = time.perf_counter()
        cpu = _cpu_seconds()
        posts = root / "blog" / "source" / "_posts"
        report = import_posts(archive, [posts], media_dir=root / "m", workers=args.workers)
        elapsed = time.perf_counter() - started
        writer, readers_cpu = (
            after - before for after, before in zip(_cpu_seconds(), cpu, strict=True)
        )
        readers = "default" if args.workers is None else args.workers
        print(
            f"import: {report.new:,} new of {report.files:,} files in {elapsed:.1f}s "
            f"({report.files / elapsed:,.0f} articles/s; reader processes: {readers}), "
            f"{len(report.failed)} failed"
        )
        # What the import costs in CPU, which a busy machine does not change much: the writer
        # (this process) cannot be split, the readers share the other cores.
        cores = os.cpu_count() or 1
        bound = max(writer, (writer + readers_cpu) / cores)
        print(
            f"import CPU: writer {writer * 1000 / report.files:.2f} ms/article, readers "
            f"{readers_cpu * 1000 / report.files:.2f} ms/article; on {cores} idle cores: "
            f"{report.files / bound:,.0f} articles/s"
        )
        started = time.perf_counter()
        again = import_posts(archive, [posts], media_dir=root / "m", workers=args.workers)
        elapsed = time.perf_counter() - started
        print(f"import again: {again.unchanged:,} unchanged in {elapsed:.1f}s")
        ids = [row["id"] for row in archive.articles.search(SearchFilters(limit=args.export))]
        since = archive.articles.get(ids[-1])["published"]
        filters = SearchFilters(since=None if since is None else _when(since), limit=None)
        for attempt in ("first", "again"):
            started = time.perf_counter()
            out = export_site(archive.articles.export(filters), root / "site", "hexo")
            elapsed = time.perf_counter() - started
            print(
                f"export to hexo ({attempt}): {out.articles:,} articles in {elapsed:.1f}s "
                f"({out.written:,} written, {out.unchanged:,} unchanged)"
            )
        archive.close()


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its finished children."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _when(value: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))


if __name__ == "__main__":
    main()

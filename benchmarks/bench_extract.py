"""Page extraction on the shared corpora: quality and time, ours against the tools alone.

    .venv/bin/python benchmarks/bench_extract.py

Main text (``../shared/corpora/pages/text``, 106 pages): trafilatura's snippet measure
(precision, recall, F1) for ``archiver.extract.extract_article`` and for
``trafilatura.extract`` with its defaults. Dates (``pages/dates``, 796 pages): within a day
of the human annotation, for our policy and for htmldate alone (its defaults, and with
``original_date``). Time: seconds of CPU for our extraction over the text corpus, against
``trafilatura.extract`` on the same pages in the same run (best of ``--runs``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archiver.errors import PageParseError
from archiver.extract.engine import date_page, extract_article
from archiver.normalize.text import html_to_text
from archiver.readers.pages import read_article_page
from tests.test_extract_corpora import pages, within_a_day


def snippet_scores(found: list[tuple[str, dict[str, object]]]) -> tuple[float, float, float]:
    hits = misses = noise = 0
    for text, facts in found:
        wanted, unwanted = list(facts["with"]), list(facts["without"])  # type: ignore[call-overload]
        hits += sum(1 for snippet in wanted if snippet in text)
        misses += sum(1 for snippet in wanted if snippet not in text)
        noise += sum(1 for snippet in unwanted if snippet in text)
    precision, recall = hits / (hits + noise), hits / (hits + misses)
    return precision, recall, 2 * precision * recall / (precision + recall)


def ours_text(url: str, body: bytes) -> str:
    try:
        return html_to_text(extract_article(body, url).content_html)
    except PageParseError:
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (best kept)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import trafilatura
    from htmldate import find_date

    corpus = list(pages("text"))
    ours = [(ours_text(url, body), facts) for url, facts, body in corpus]
    alone = [(trafilatura.extract(body, url=url) or "", facts) for url, facts, body in corpus]
    for name, found in (("archiver", ours), ("trafilatura alone", alone)):
        precision, recall, f1 = snippet_scores(found)
        print(f"main text, {name:<18} P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f}")

    timings: dict[str, float] = {}
    for _ in range(args.runs):  # alternating, so both see the same machine
        for name, run in (
            ("archiver", lambda: [ours_text(u, b) for u, _, b in corpus]),
            ("trafilatura", lambda: [trafilatura.extract(b, url=u) for u, _, b in corpus]),
        ):
            started = time.process_time()
            run()
            spent = time.process_time() - started
            timings[name] = min(timings.get(name, spent), spent)
    print(
        f"time over {len(corpus)} pages: archiver {timings['archiver']:.2f} s CPU, "
        f"trafilatura.extract {timings['trafilatura']:.2f} s "
        f"(ratio {timings['archiver'] / timings['trafilatura']:.2f})"
    )

    counts = {"archiver": 0, "htmldate (defaults)": 0, "htmldate (original_date)": 0}
    total = 0
    for url, facts, body in pages("dates"):
        total += 1
        try:
            reading = read_article_page(body, url)
            date_page(reading)
            counts["archiver"] += within_a_day(reading.item.published_raw, facts["date"])
        except PageParseError:
            pass
        counts["htmldate (defaults)"] += within_a_day(find_date(body, url=url), facts["date"])
        counts["htmldate (original_date)"] += within_a_day(
            find_date(body, url=url, original_date=True), facts["date"]
        )
    for name, count in counts.items():
        print(f"dates within a day, {name:<25} {count} of {total}")


if __name__ == "__main__":
    main()

"""Extraction on real pages written by others: main text and dates, beside the tools alone.

``../shared/corpora/pages/``: trafilatura's evaluation pages (snippets the main text must
and must not hold) and htmldate's (a human-annotated publication day). The figures are
measured side by side in one run, ours against the library alone on the same pages.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from archiver.errors import PageParseError
from archiver.extract.engine import date_page, extract_article
from archiver.normalize.dates import parse_date
from archiver.normalize.text import html_to_text
from archiver.readers.pages import read_article_page

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "pages"

pytestmark = pytest.mark.skipif(not CORPORA.exists(), reason="../shared/corpora is not here")


def pages(kind: str) -> Iterator[tuple[str, dict[str, object], bytes]]:
    expected = json.loads((CORPORA / kind / "expected.json").read_text(encoding="utf-8"))
    for url, facts in expected.items():
        body = gzip.decompress((CORPORA / kind / "html" / f"{facts['file']}.gz").read_bytes())
        yield url, facts, body


def snippet_f1(found: list[tuple[str, dict[str, object]]]) -> float:
    """trafilatura's own measure: snippets of the main text found (true positives) and
    missed, boilerplate snippets found (false positives)."""
    hits = misses = noise = 0
    for text, facts in found:
        wanted, unwanted = facts["with"], facts["without"]
        assert isinstance(wanted, list)
        assert isinstance(unwanted, list)
        hits += sum(1 for snippet in wanted if snippet in text)
        misses += sum(1 for snippet in wanted if snippet not in text)
        noise += sum(1 for snippet in unwanted if snippet in text)
    precision, recall = hits / (hits + noise), hits / (hits + misses)
    return 2 * precision * recall / (precision + recall)


def test_main_text_is_as_good_as_trafilaturas_own() -> None:
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    ours, alone = [], []
    for url, facts, body in pages("text"):
        try:
            text = html_to_text(extract_article(body, url).content_html)
        except PageParseError:
            text = ""
        ours.append((text, facts))
        alone.append((trafilatura.extract(body, url=url) or "", facts))
    assert len(ours) == 106
    ours_f1, alone_f1 = snippet_f1(ours), snippet_f1(alone)
    assert ours_f1 >= alone_f1 - 0.01, f"ours {ours_f1:.3f}, trafilatura alone {alone_f1:.3f}"


def within_a_day(found: str | None, wanted: object) -> bool:
    if not found:
        return False
    value = parse_date(found).value
    return value is not None and abs(value.date() - date.fromisoformat(str(wanted))) <= (
        timedelta(days=1)
    )


def test_page_dates_are_as_good_as_htmldates_own() -> None:
    from htmldate import find_date

    ours = alone = 0
    for url, facts, body in pages("dates"):
        try:
            reading = read_article_page(body, url)
        except PageParseError:
            continue
        date_page(reading)  # what extract_article dates a page with
        ours += within_a_day(reading.item.published_raw, facts["date"])
        alone += within_a_day(find_date(body, url=url, original_date=True), facts["date"])
    assert ours >= alone - 4, f"ours {ours}, htmldate alone {alone} of 796"

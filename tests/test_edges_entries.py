"""Empty entries are skipped and counted, never archived under the feed's URL; an untitled
entry with a body is archived with a title made from its text, flagged ``derived``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from archiver.normalize.article import normalize_article
from archiver.readers.feeds import parse_feed
from tests.conftest import run_archiver
from tests.mocksite.edges import UNTITLED_TEXT

FEED_URL = "https://feeds.example/feed"


@pytest.mark.parametrize(
    "document",
    [
        b'<rss version="2.0"><channel><title>t</title><item></item>'
        b"<item><title> </title><description> &lt;p&gt; &lt;/p&gt; </description></item>"
        b"<item><title>kept</title></item></channel></rss>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><entry></entry>'
        b'<entry><content type="html">  </content></entry>'
        b"<entry><title>kept</title></entry></feed>",
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "t",
                "items": [{}, {"content_html": " "}, {"title": "kept"}],
            }
        ).encode(),
    ],
    ids=["rss", "atom", "json"],
)
def test_entries_that_say_nothing_are_skipped_and_counted(document: bytes) -> None:
    feed = parse_feed(document, FEED_URL)
    assert [entry.title_raw for entry in feed.entries] == ["kept"]
    assert feed.skipped_empty == 2


@pytest.mark.parametrize(
    "item",
    [
        "<item><guid isPermaLink='false'>g</guid></item>",  # a guid alone is an identity
        "<item><link>https://feeds.example/a</link></item>",
        "<item><description>&lt;img src='https://feeds.example/i.png'&gt;</description></item>",
        "<item><enclosure url='https://feeds.example/a.mp3' type='audio/mpeg'/></item>",
    ],
)
def test_an_entry_with_anything_of_its_own_is_kept(item: str) -> None:
    document = f'<rss version="2.0"><channel><title>t</title>{item}</channel></rss>'.encode()
    feed = parse_feed(document, FEED_URL)
    assert (len(feed.entries), feed.skipped_empty) == (1, 0)


def test_an_untitled_entry_is_titled_from_its_text_and_flagged() -> None:
    body = "First sentence of the body, long enough. " * 5
    document = (
        '<rss version="2.0"><channel><title>t</title><item><guid>u1</guid>'
        f"<description>{body}</description></item></channel></rss>"
    ).encode()
    (entry,) = parse_feed(document, FEED_URL).entries
    normalize_article(entry)
    assert entry.title_raw is None  # the raw field says what the feed said: nothing
    assert entry.title == "First sentence of the body, long enough."
    assert entry.provenance == {"title": "derived"}
    assert entry.key == "u1"


def test_a_real_feed_with_empty_items_through_the_crawl(mock_site: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "archive.db")
    url = mock_site.url("/edges/empty-items.xml")
    result = run_archiver("--db", db, "crawl", url, "--no-images", "--full-text", "never")
    assert result.returncode == 0, result.stderr
    rows = run_archiver("--db", db, "search", "--format", "json").json()
    assert sorted(row["title"] for row in rows) == sorted(["A normal entry", UNTITLED_TEXT])
    untitled = next(row for row in rows if row["title"] == UNTITLED_TEXT)
    shown = run_archiver("--db", db, "show", str(untitled["id"]), "--format", "json").json()
    assert (shown["title_raw"], shown["provenance"]["title"]) == (None, "derived")
    (run,) = run_archiver("--db", db, "runs", "--format", "json").json()
    assert run["new"] == 2
    assert run["sources"][url]["empty_entries"] == 2
    assert run["sources"][url]["entries"] == 2

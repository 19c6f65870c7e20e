"""The feed reader against feedparser's own test corpus: same entries, same titles, no crash."""

from __future__ import annotations

import html
import io
import re
from functools import cache
from pathlib import Path
from typing import Any

import feedparser
import pytest

from archiver.errors import FeedParseError
from archiver.readers.feeds import ParsedFeed, parse_feed

CORPUS = Path(__file__).parent.parent.parent / "shared" / "corpora" / "feedparser"
FEED_URL = "http://example.com/feed.xml"
REQUIRED_PASS_RATE = 0.99

_HEADER = re.compile(r"^Header:\s*([\w-]+)\s*:\s*(.*?)\s*$", re.MULTILINE)
_DROPPED = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))


def content_type_of(body: bytes) -> str | None:
    """The ``Header: Content-type: ...`` line a corpus file carries for its test, if any."""
    for name, value in _HEADER.findall(body[:2000].decode("latin-1")):
        if name.lower() == "content-type":
            return str(value)
    return None


def normalized(title: str | None) -> str:
    """What a reader sees: entities decoded, tags (and script/style/comments, which feedparser's
    sanitizer drops) removed, whitespace collapsed. Applied to both sides."""
    text = html.unescape(title or "")
    text = _DROPPED.sub("", text)
    text = _TAG.sub("", text)
    return " ".join(text.split())


@cache
def feedparser_result(path: Path) -> Any:
    body = path.read_bytes()
    content_type = content_type_of(body)
    headers = {"content-type": content_type} if content_type else None
    # A stream, not bytes: feedparser treats bytes that name a file as a path to open.
    return feedparser.parse(io.BytesIO(body), response_headers=headers)


def ours(path: Path) -> ParsedFeed | FeedParseError:
    body = path.read_bytes()
    try:
        return parse_feed(body, FEED_URL, content_type=content_type_of(body))
    except FeedParseError as error:
        return error


def mismatch(path: Path) -> str | None:
    """Why our reading of a well-formed file differs from feedparser's, or None."""
    theirs = feedparser_result(path)
    mine = ours(path)
    if isinstance(mine, FeedParseError):
        if theirs.entries or theirs.version:
            return f"FeedParseError ({mine}) where feedparser read a {theirs.version} feed"
        return None
    if len(mine.entries) != len(theirs.entries):
        return f"{len(mine.entries)} entries, feedparser {len(theirs.entries)}"
    for number, (entry, expected) in enumerate(zip(mine.entries, theirs.entries, strict=True)):
        if normalized(entry.title_raw) != normalized(expected.get("title")):
            return f"entry {number} title {entry.title_raw!r}, feedparser {expected.get('title')!r}"
    return None


FILES = corpus_files()
needs_corpus = pytest.mark.skipif(not FILES, reason=f"feedparser corpus not found at {CORPUS}")


@needs_corpus
def test_titles_and_entry_counts_match_feedparser(capsys: pytest.CaptureFixture[str]) -> None:
    well_formed = [path for path in FILES if not feedparser_result(path).bozo]
    failures = {path: why for path in well_formed if (why := mismatch(path)) is not None}
    rate = 1 - len(failures) / len(well_formed)
    with capsys.disabled():
        print(
            f"\nfeedparser corpus: {len(well_formed) - len(failures)}/{len(well_formed)} "
            f"well-formed files match ({rate:.2%})"
        )
        for path, why in failures.items():
            print(f"  {path.relative_to(CORPUS)}: {why}")
    assert rate >= REQUIRED_PASS_RATE, failures


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_no_file_raises(path: Path) -> None:
    mine = ours(path)  # anything but FeedParseError propagates and fails the test
    if isinstance(mine, FeedParseError):
        assert not feedparser_result(path).entries, f"FeedParseError, but feedparser: {mine}"


@needs_corpus
def test_the_json_feed_sample_meets_its_expectation() -> None:
    # feedparser 6 does not read JSON Feed; the file's own Expect line is the reference.
    feed = ours(CORPUS / "json" / "example.json")
    assert isinstance(feed, ParsedFeed)
    assert feed.title == "My Example Feed"
    assert [entry.url for entry in feed.entries] == [
        "https://example.org/second-item",
        "https://example.org/initial-post",
    ]

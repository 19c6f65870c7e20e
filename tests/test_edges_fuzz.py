"""Fuzzed input, on a fixed budget: the feed, page and sitemap readers never raise past their
contract (mutations of feedparser's corpus, random bytes, deep nesting, huge attributes,
entity bombs); the search language keeps every query text out of the SQL; every command,
given random arguments, answers with a one-line error and a non-zero exit, or works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import ArchiverError, FeedParseError, PageParseError
from archiver.readers.feeds import parse_feed
from archiver.readers.pages import parse_article_page
from archiver.readers.sitemaps import parse_sitemap
from archiver.storage import Archive, SearchFilters
from archiver.storage.search import parse_query
from tests.conftest import SHARED

BUDGET = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Every fuzzer's budget: small, so the suite stays fast; the same on every run."""

CORPUS = sorted((SHARED / "corpora" / "feedparser").rglob("*.xml"))[::7]
URL = "https://fuzz.example/feed.xml"


@st.composite
def mutated(draw: st.DrawFn, documents: list[bytes]) -> bytes:
    """A document with a few bytes deleted, inserted or replaced."""
    data = bytearray(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        piece = draw(st.binary(min_size=1, max_size=12))
        operation = draw(st.sampled_from(("delete", "insert", "replace")))
        if operation == "delete":
            del data[at : at + len(piece)]
        elif operation == "insert":
            data[at:at] = piece
        else:
            data[at : at + len(piece)] = piece
    return bytes(data)


def feed_documents() -> list[bytes]:
    return [path.read_bytes() for path in CORPUS]


def read_feed(document: bytes) -> None:
    try:
        feed = parse_feed(document, URL)
    except FeedParseError:
        return
    for entry in feed.entries:
        assert entry.url
        assert len(entry.title_raw or "") < 5_000_000


@BUDGET
@given(mutated(feed_documents()))
def test_mutated_corpus_feeds_give_entries_or_a_feed_parse_error(document: bytes) -> None:
    read_feed(document)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(
        b'<!ENTITY %s "%s">' % (bytes([98 + n]), bytes([97 + n]).join([b"&", b";"]) * 10)
        for n in range(8)
    )
    + b']><rss version="2.0"><channel><title>&i;</title><item><title>&i;</title>'
    b"<description>&i;</description></item></channel></rss>"
)
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "' + b"x" * 50_000 + b'">]>'
    b'<rss version="2.0"><channel><item><title>' + b"&x;" * 2_000 + b"</title></item>"
    b"</channel></rss>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><item><title>&e;</title></item></channel></rss>'
)


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        QUADRATIC,
        EXTERNAL,
        b'<rss version="2.0"><channel><item><description>'
        + b"<div>" * 100_000
        + b"</description></item></channel></rss>",
        b"<rss>" + b"<channel>" * 50_000 + b"<item><title>deep</title></item>",
        b'<rss version="2.0"><channel><item><title>t</title><link href="'
        + b"a" * 5_000_000
        + b'"/></item></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="'
        + b"x" * 1_000_000
        + b'">t</title></entry></feed>',
    ],
    ids=["billion-laughs", "quadratic-blowup", "external-entity", "deep-markup",
         "deep-xml", "huge-attribute", "huge-atom-attribute"],
)  # fmt: skip
def test_hostile_documents_stay_within_bounds(document: bytes) -> None:
    """No entity is expanded into gigabytes, no file is read, no recursion overflows: the
    reader gives what it can (bounded) or a FeedParseError."""
    read_feed(document)
    try:
        feed = parse_feed(document, URL)
    except FeedParseError:
        return
    text = " ".join(f"{e.title_raw} {e.content_html}" for e in feed.entries) + str(feed.title)
    assert "root:" not in text  # /etc/passwd was not read
    assert len(text) < 20_000_000


PAGE_PIECES = st.sampled_from(
    [
        "<html>", "<head>", "<title>T</title>", '<meta property="og:title" content="x">',
        '<script type="application/ld+json">{"@type":"NewsArticle","headline":',
        '"h"}</script>', "<article>", "<p>text ", "</p>", "<div>", "</div>", "<img src=x>",
        '<link rel="canonical" href="/c">', "<time datetime='2021-04-02'>", "&amp;", "&#0;",
        "\x00", "<![CDATA[", "]]>", "<!--", "-->", "<base href='javascript:x'>", "</article>",
    ]
)  # fmt: skip


@BUDGET
@given(st.one_of(st.binary(max_size=3000), st.lists(PAGE_PIECES, max_size=60).map("".join)))
def test_any_page_gives_an_article_or_a_page_parse_error(page: bytes | str) -> None:
    body = page.encode("utf-8", "surrogatepass") if isinstance(page, str) else page
    try:
        item = parse_article_page(body, "https://fuzz.example/a.html")
    except PageParseError:
        return
    assert item.url


SITEMAP_PIECES = st.sampled_from(
    [
        '<?xml version="1.0"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        "<sitemapindex>", "<url>", "<loc>https://fuzz.example/a</loc>", "<loc>", "</loc>",
        "<lastmod>2021-04-02</lastmod>", "<lastmod>yesterday</lastmod>", "</url>",
        "<sitemap>", "</sitemap>", "</urlset>", "</sitemapindex>", "&x;", "<news:news>",
        "<image:image><image:loc>/i.png</image:loc></image:image>", "javascript:alert(1)",
    ]
)  # fmt: skip


@BUDGET
@given(
    st.one_of(
        st.binary(max_size=2000),
        st.lists(SITEMAP_PIECES, max_size=40).map(lambda p: "".join(p).encode()),
    )
)
def test_any_sitemap_gives_entries_or_a_feed_parse_error(body: bytes) -> None:
    try:
        sitemap = parse_sitemap(body, "https://fuzz.example/sitemap.xml", max_size=1 << 20)
    except FeedParseError:
        return
    assert sitemap is not None


# -- the search language ------------------------------------------------------------------------

MARKER = "qzxmarker"
QUERY_PIECES = st.sampled_from(
    ['"', "'", "-", ":", "title:", "author:", "source:", "category:", "since:", "until:",
     "2021-04-02", " ", "谷歌", "%", "_", "\\", ";", "--", "/*", "*/", "OR", "NEAR(", ")",
     "(", "*", "^", "DROP TABLE articles", "\x00", MARKER]
)  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Archive, list[str]]]:
    from sqlalchemy import event

    from tests.test_storage import make_item, store

    archive = Archive(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'archive.db'}")
    for n in range(1, 4):
        store(archive, make_item(n))
    statements: list[str] = []

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(archive.engine, "before_cursor_execute", remember)
    yield archive, statements
    archive.close()


@BUDGET
@given(st.lists(st.one_of(QUERY_PIECES, st.text(max_size=6)), min_size=1, max_size=12))
def test_no_query_text_reaches_the_sql(
    fuzz_archive: tuple[Archive, list[str]], pieces: list[str]
) -> None:
    """Any query runs or is refused as bad usage; its text is only ever a bound parameter
    (the marker word never appears in a statement), and the archive is intact after."""
    archive, statements = fuzz_archive
    query = "".join(pieces)
    statements.clear()
    try:
        parse_query(query)
        archive.articles.search(SearchFilters(query=query, limit=5))
    except ArchiverError:
        pass
    assert not [s for s in statements if MARKER in s]
    assert archive.stats.totals()["articles"] == 3


# -- every command, given random arguments ---------------------------------------------------


def commands() -> list[tuple[list[str], click.Command]]:
    """Every command as (its path under ``archiver``, the command)."""
    from archiver.cli.command import cli

    found: list[tuple[list[str], click.Command]] = []

    def walk(path: list[str], command: click.Command) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk([*path, name], sub)
        else:
            found.append((path, command))

    walk([], cli)
    return found


CRAWLING = {"crawl", "run", "worker"}
"""Verbs that would start a crawl in this process when their arguments are good: given one
bad option value always (a reactor cannot start twice in a process)."""

SERVING = {"serve"}
"""Verbs that would serve until stopped when their arguments are good: given a bad port."""


@st.composite
def arguments(draw: st.DrawFn) -> list[str]:
    path, command = draw(st.sampled_from(commands()))
    options = [opt for param in command.params for opt in param.opts if opt.startswith("-")]
    words = st.one_of(
        st.text(max_size=12),
        st.sampled_from(["", "-", "--", "0", "-1", "1e9", "x" * 300, "2021-13-45", "a:b",
                         "http://", "file:///dev/null", "sqlite:///", "\x00", "谷歌"]),
    )  # fmt: skip
    tokens = draw(st.lists(st.one_of(st.sampled_from(options or ["--x"]), words), max_size=8))
    if path[0] in CRAWLING:
        tokens.append(draw(st.sampled_from(["--full-text", "--idle-seconds", "-s"])))
        tokens.append("not-a-" + draw(st.text(alphabet="abc", max_size=3)))  # never valid
        if path[0] != "worker":
            tokens.insert(0, "--full-text=sometimes")
    if path[0] in SERVING:
        tokens[:0] = ["--port", "not-a-port"]
        tokens += ["--port", "not-a-port"]
    return [*path, *tokens]


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-fuzz")
    Archive(f"sqlite:///{home / 'archive.db'}").close()
    return home


@settings(BUDGET, max_examples=120)  # cheap examples: every verb gets several
@given(args=arguments())
def test_every_command_given_random_arguments_answers_in_one_line(
    cli_home: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from archiver.cli.command import cli

    monkeypatch.chdir(cli_home)  # whatever it writes stays in the fuzzer's directory
    db = f"sqlite:///{cli_home / 'archive.db'}"
    base = ["--db", db, "--media", str(cli_home / "media")]
    result = CliRunner().invoke(cli, [*base, *args], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"archiver {args!r} raised {result.exception!r}"
    )
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"archiver {args!r}: {result.stderr!r}"
        assert re.match(r"Error: \S", lines[0]), lines[0]

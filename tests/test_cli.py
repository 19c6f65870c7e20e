"""The command line, in process with click's CliRunner (crawls are in test_crawl.py)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.storage import Archive
from tests.test_storage import make_item, store


@pytest.fixture
def filled(db_url: str) -> str:
    archive = Archive(db_url)
    try:
        store(archive, make_item(1, authors=["Alice", "Bob"], categories=["tech"]))
        store(
            archive, make_item(2, title="Keras，亡于谷歌？", categories=["新媒体", "36kr", "资讯"])
        )
    finally:
        archive.close()
    return db_url


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_and_version() -> None:
    code, out, _ = invoke("-h")
    assert code == 0
    for command in ("crawl", "search", "show", "stats", "runs", "db"):
        assert command in out
    code, out, _ = invoke("--version")
    assert code == 0
    assert "archiver" in out


def test_search_json_contract(filled: str) -> None:
    code, out, _ = invoke("--db", filled, "search", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [2, 1]
    for row in rows:
        assert {
            "id",
            "url",
            "title",
            "published",
            "author",
            "source",
            "categories",
            "headimg",
        } <= set(row)
        assert row["published"].endswith("Z")
    assert rows[0]["title"] == "Keras，亡于谷歌？"
    assert rows[0]["categories"] == ["新媒体", "36kr", "资讯"]
    assert rows[1]["author"] == "Alice, Bob"


def test_search_filters_and_formats(filled: str) -> None:
    code, out, _ = invoke("--db", filled, "search", "谷歌", "--category", "资讯", "--format", "csv")
    assert code == 0
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in table] == ["2"]
    code, out, _ = invoke(
        "--db", filled, "search", "--since", "2021-04-04", "--until", "2021-04-05"
    )
    assert code == 0
    assert "亡于谷歌" in out
    assert "Title & 1" not in out
    code, out, _ = invoke("--db", filled, "search", "--author", "bob", "--limit", "1")
    assert "Title & 1" in out


def test_show_json_contract(filled: str) -> None:
    code, out, _ = invoke("--db", filled, "show", "2")
    assert code == 0
    article = json.loads(out)
    expected = {
        "id", "url", "title", "published", "author", "source", "categories", "headimg",
        "canonical_url", "guid", "updated", "tags", "summary", "content_html", "content_text",
        "thumbnail", "published_raw", "images",
    }  # fmt: skip
    assert expected <= set(article)
    assert article["content_html"] == '<p data-x="1">Body 2 谷歌</p>'
    assert article["images"] == []
    code, out, _ = invoke("--db", filled, "show", "https://example.com/a/1", "--format", "html")
    assert out.strip() == "<p>Body 1 谷歌</p>"  # sanitized on the way out: data-* is not kept
    code, out, _ = invoke("--db", filled, "show", "2", "--format", "markdown")
    assert out.startswith("\n---\ntitle: 'Keras，亡于谷歌？'\ncategories: \n - 新媒体\n")


def test_stats_json_contract(filled: str) -> None:
    code, out, _ = invoke("--db", filled, "stats", "--format", "json")
    assert code == 0
    counts = json.loads(out)
    assert counts["articles"] == 2
    assert counts["sources"] == 1
    assert counts["images"] == 0
    assert counts["by_source"]["example.com"]["articles"] == 2
    assert counts["by_month"] == {"2021-04": 2}


def test_db_upgrade(db_url: str) -> None:
    code, out, _ = invoke("--db", db_url, "db", "upgrade")
    assert code == 0
    assert "is at revision" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--since", "yesterday-ish"], "is not a date"),
        (["search", "--limit", "0"], "--limit"),
        (["search", "--format", "xml"], "--format"),
        (["show", "999"], "no article '999'"),
        (["crawl"], "Missing argument"),
        (["crawl", "ftp://example.com/feed"], "unsupported URL scheme 'ftp'"),
        (["crawl", "not a url"], "is not a URL"),
        (["crawl", "--timezone", "Mars/Base", "http://127.0.0.1:9/"], "unknown time zone"),
    ],
)
def test_bad_arguments_say_what_is_wrong_in_one_line(
    db_url: str, args: list[str], message: str
) -> None:
    code, out, err = invoke("--db", db_url, *args)
    assert code != 0
    assert message in err
    assert "Traceback" not in err + out
    if args[0] != "show":
        assert code == 2


def test_unreachable_database_is_one_line() -> None:
    code, _, err = invoke("--db", "postgresql://127.0.0.1:1/none", "stats")
    assert code == 1
    assert err.startswith("Error: cannot open the database")
    assert len(err.strip().splitlines()) == 1


def test_missing_directory_for_sqlite(tmp_path: Path) -> None:
    code, _, err = invoke("--db", str(tmp_path / "no" / "archive.db"), "stats")
    assert code == 1
    assert "does not exist" in err


LAST_COLLECTIONS = """
import sys
from archiver.cli.command import main

class Cycle:
    def __del__(self):
        print("collected at exit", flush=True)

cycle = Cycle()
cycle.self = cycle  # freed by a collection only
del cycle
import gc; gc.disable()  # none before the exit
sys.argv = ["archiver", "--version"]
main()
"""


def test_the_command_leaves_its_objects_to_the_system_at_exit() -> None:
    # The interpreter's last collections walk every object a crawl's imports made (0.6 s
    # after each run): the command skips them, and still says what it has to say.
    ran = subprocess.run(
        [sys.executable, "-c", LAST_COLLECTIONS], capture_output=True, text=True, check=True
    )
    assert ran.stdout.startswith("archiver, version ")
    assert "collected at exit" not in ran.stdout
    gc_kept = LAST_COLLECTIONS.replace("main()", "cli(prog_name='archiver')").replace(
        "import main", "import cli"
    )
    ran = subprocess.run(
        [sys.executable, "-c", gc_kept], capture_output=True, text=True, check=True
    )
    assert "collected at exit" in ran.stdout  # what the command skips: the check can fail

"""Captures through the real command: every kind of response, revisits, the index, reprocess
without the network, the WARC export replayed by pywb, a crawl killed mid-write."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.captures.warc import OPEN_SUFFIX, payload_digest, read_record, scan_file
from tests.conftest import ROOT, Result, archiver_env, run_archiver, start_archiver, wait_until
from tests.mocksite.bigsite import big_feed_paths

PYWB = ROOT / ".venv-pywb" / "bin" / "wayback"


def archiver(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = run_archiver(
        "--db", str(tmp_path / "archive.db"), "--media", str(tmp_path / "media"), *args, env=env
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def index_rows(tmp_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "archive.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM captures ORDER BY id")]


def warc_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "captures").glob("*.warc.gz*"))


def warcio(command: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", command, str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def assert_warcio_reads(tmp_path: Path) -> None:
    """warcio's own reader checks and indexes every file written."""
    files = warc_files(tmp_path)
    assert files
    for path in files:
        checked = warcio("check", path)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        indexed = warcio("index", path)
        assert indexed.returncode == 0, indexed.stderr
        assert '"warc-type": "response"' in indexed.stdout or "revisit" in indexed.stdout


def test_every_kind_of_response_is_captured_and_an_unchanged_recrawl_adds_revisits(
    mock_site: Any, tmp_path: Path
) -> None:
    feed = mock_site.url("/whole/summary.atom")
    sitemap = mock_site.url("/sitemap.xml")
    archiver(tmp_path, "crawl", feed, sitemap)
    rows = index_rows(tmp_path)
    kinds = {row["kind"] for row in rows}
    assert kinds == {"feed", "sitemap", "page"}
    assert {row["record_type"] for row in rows} == {"response"}
    assert all(row["run_id"] == 1 for row in rows)
    feeds = [row for row in rows if row["kind"] == "feed"]
    assert [row["url"] for row in feeds] == [feed]
    assert feeds[0]["source_url"] == feed
    sitemaps = {urlsplit(row["url"]).path for row in rows if row["kind"] == "sitemap"}
    assert {"/sitemap.xml", "/sitemaps/articles.xml", "/sitemaps/news.xml"} <= sitemaps
    pages = [row for row in rows if row["kind"] == "page"]
    assert len(pages) == 4 + 6  # the feed's entries' pages, the sitemap's pages
    assert all(row["article_id"] is not None for row in pages)
    # every record is in its file at its offset, its payload as the site sent it
    for row in rows:
        status, _, body = read_record(tmp_path / "captures", row["warc_file"], row["offset"])
        assert status == row["status"] == 200
        assert payload_digest(body) == row["payload_digest"]
    status, _, body = read_record(tmp_path / "captures", feeds[0]["warc_file"], feeds[0]["offset"])
    assert body == mock_site.get("/whole/summary.atom").body
    # each response is followed by the request that asked for it
    with warc_files(tmp_path)[0].open("rb") as stream:
        types = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
            for r in ArchiveIterator(stream)
        ]
    assert ("request", feed) in types
    assert types.index(("request", feed)) == types.index(("response", feed)) + 1
    first_bytes = sum(path.stat().st_size for path in warc_files(tmp_path))

    archiver(tmp_path, "crawl", feed, sitemap)
    again = [row for row in index_rows(tmp_path) if row["run_id"] == 2]
    assert again  # the feed and the sitemaps were fetched again, whole
    assert {row["record_type"] for row in again} == {"revisit"}
    assert {row["kind"] for row in again} == {"feed", "sitemap"}  # no page fetched again
    added = sum(path.stat().st_size for path in warc_files(tmp_path)) - first_bytes
    revisit_bytes = sum(row["length"] for row in again)
    assert revisit_bytes < 600 * len(again)  # a few hundred bytes each, not the payload
    # A revisit has no request record beside it (the response it repeats has its own): the
    # file holds its warcinfo and the revisits, nothing else.
    (second,) = [path for path in warc_files(tmp_path) if path.name == again[0]["warc_file"]]
    assert record_types(second) == ["warcinfo"] + ["revisit"] * len(again)
    assert added == second.stat().st_size
    assert added < first_bytes / 5
    assert_warcio_reads(tmp_path)

    # the index through the commands: captures URL, show --capture, show's captures, stats
    listed = archiver(tmp_path, "captures", feed, "--format", "json").json()
    assert [c["record_type"] for c in listed] == ["revisit", "response"]  # newest first
    assert listed[0]["payload_digest"] == listed[1]["payload_digest"]
    page_url = mock_site.url("/whole/pages/budget-ld.html")
    shown = archiver(tmp_path, "show", page_url, "--format", "json").json()
    # every record it was read from, oldest first: the feed that gave it, its page, and
    # the feed's revisit that still held it
    assert [(c["kind"], c["record_type"]) for c in shown["captures"]] == [
        ("feed", "response"),
        ("page", "response"),
        ("feed", "revisit"),
    ]
    assert [c["id"] for c in shown["captures"] if c["kind"] == "feed"] == [
        c["id"] for c in reversed(listed)
    ]
    raw = subprocess.run(
        [sys.executable, "-m", "archiver", "--db", str(tmp_path / "archive.db"),
         "--media", str(tmp_path / "media"), "show", page_url, "--capture"],
        capture_output=True, env=archiver_env(), check=False,
    )  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    head, _, payload = raw.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Content-Type: text/html; charset=utf-8" in head
    assert payload == mock_site.get("/whole/pages/budget-ld.html").body
    stats = archiver(tmp_path, "stats", "--format", "json").json()
    assert stats["captures"] == len(index_rows(tmp_path))
    assert stats["capture_revisits"] == len(again)
    assert stats["capture_bytes"] == sum(row["length"] for row in index_rows(tmp_path))


def record_types(path: Path) -> list[str]:
    with path.open("rb") as stream:
        return [record.rec_type for record in ArchiveIterator(stream)]


def test_a_revisit_keeps_its_request_record_when_asked(mock_site: Any, tmp_path: Path) -> None:
    feed = mock_site.url("/whole/full.xml")
    archiver(tmp_path, "crawl", "--full-text", "never", feed)
    asked = "ARCHIVER_CAPTURES_REVISIT_REQUESTS=true"
    archiver(tmp_path, "crawl", "--full-text", "never", feed, "-s", asked)
    written = index_rows_by_file(tmp_path)
    first, second = sorted(warc_files(tmp_path), key=lambda path: written[path.name])
    assert record_types(first) == ["warcinfo", "response", "request"]
    assert record_types(second) == ["warcinfo", "revisit", "request"]
    with second.open("rb") as stream:
        revisit, request = list(ArchiveIterator(stream))[1:]
        revisit_id = revisit.rec_headers.get_header("WARC-Record-ID")
        assert request.rec_headers.get_header("WARC-Concurrent-To") == revisit_id
    assert_warcio_reads(tmp_path)


def index_rows_by_file(tmp_path: Path) -> dict[str, int]:
    """Each WARC file's first indexed row id: the order the files were written in."""
    first: dict[str, int] = {}
    for row in index_rows(tmp_path):
        first.setdefault(row["warc_file"], row["id"])
    return first


def test_captures_can_be_limited_by_kind_and_size_or_turned_off(
    mock_site: Any, tmp_path: Path
) -> None:
    feed = mock_site.url("/whole/summary.atom")
    for name in "abc":
        (tmp_path / name).mkdir()
    archiver(tmp_path / "a", "crawl", feed, "-s", "ARCHIVER_CAPTURES_KINDS=feed")
    assert {row["kind"] for row in index_rows(tmp_path / "a")} == {"feed"}
    feed_bytes = len(mock_site.get("/whole/summary.atom").body)
    limit = f"ARCHIVER_CAPTURES_MAX_BYTES={feed_bytes}"
    archiver(tmp_path / "b", "crawl", feed, "-s", limit)
    kept = index_rows(tmp_path / "b")
    assert [row["kind"] for row in kept] == ["feed"]  # the pages are larger: not kept
    assert len(archiver(tmp_path / "b", "search", "--format", "json").json()) == 4
    archiver(tmp_path / "c", "crawl", feed, "-s", "ARCHIVER_CAPTURES=false")
    assert index_rows(tmp_path / "c") == []
    assert not (tmp_path / "c" / "captures").exists()


def test_reprocess_after_a_normalizer_change_revises_from_captures_and_fetches_nothing(
    mock_site: Any, tmp_path: Path
) -> None:
    feed = mock_site.url("/whole/summary.atom")
    archiver(tmp_path, "crawl", feed)
    articles = archiver(tmp_path, "search", "--format", "json").json()
    assert len(articles) == 4
    titles = {a["id"]: a["title"] for a in articles}
    # The archive as an older normalizer and extractor left it: another title made from the
    # same published title, another body extracted from the same page.
    old, page_article = articles[0]["id"], articles[1]["id"]
    with sqlite3.connect(tmp_path / "archive.db") as db:
        db.execute("UPDATE articles SET title = 'An older title' WHERE id = ?", (old,))
        db.execute(
            "UPDATE articles SET content_html = '<p>older extraction</p>', "
            "content_hash = 'older' WHERE id = ?",
            (page_article,),
        )
    mock_site.reset_log()
    report = archiver(tmp_path, "reprocess", "--json").json()
    assert mock_site.requests() == []  # nothing fetched
    assert (report["articles"], report["updated"], report["unchanged"]) == (4, 2, 2)
    assert {c["id"] for c in report["changed"]} == {old, page_article}
    assert (report["feeds_read"], report["pages_read"], report["missing"]) == (1, 4, 0)
    fixed = archiver(tmp_path, "show", str(old), "--format", "json").json()
    assert fixed["title"] == titles[old]
    assert fixed["revisions"] == 1
    extracted = archiver(tmp_path, "show", str(page_article), "--format", "json").json()
    assert "older extraction" not in extracted["content_html"]
    assert extracted["content_source"] == "page:extractor"
    assert extracted["revisions"] == 1
    with sqlite3.connect(tmp_path / "archive.db") as db:
        kept = db.execute(
            "SELECT content_html FROM revisions WHERE article_id = ?", (page_article,)
        ).fetchone()
    assert kept == ("<p>older extraction</p>",)
    # the filters of search, and a second pass that finds nothing to change
    only = archiver(tmp_path, "reprocess", "--json", "--until", "2021-04-02").json()
    assert only["articles"] == 1
    again = archiver(tmp_path, "reprocess", "--json", "--processes", "0").json()
    assert (again["updated"], again["unchanged"]) == (0, 4)
    assert mock_site.requests() == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


@pytest.mark.skipif(
    not PYWB.exists(), reason="pywb is not installed in .venv-pywb (.ci/run installs it)"
)
def test_the_warc_export_is_replayed_by_pywb_with_its_images(
    mock_site: Any, tmp_path: Path
) -> None:
    archiver(tmp_path, "crawl", mock_site.url("/whole/summary.atom"))
    out = tmp_path / "export"
    report = archiver(tmp_path, "export", str(out), "--format", "warc", "--json").json()
    assert (report["articles"], report["pages"], report["feeds"]) == (4, 4, 1)
    assert report["images"] == 7
    warc, cdxj = out / "archive.warc.gz", out / "archive.cdxj"
    checked = warcio("check", warc)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # our CDXJ is the one pywb's own indexer makes of the file
    indexer = PYWB.with_name("cdx-indexer")
    theirs = subprocess.run(
        [str(indexer), "-j", str(warc)], capture_output=True, text=True, check=True
    ).stdout

    def keyed(text: str) -> list[tuple[str, str, str, str]]:
        lines = [line.split(" ", 2) for line in text.splitlines() if line and line[0] != " "]
        return sorted(
            (key, when, json.loads(rest)["offset"], json.loads(rest)["digest"])
            for key, when, rest in lines
        )

    assert keyed(cdxj.read_text()) == keyed(theirs)

    root = tmp_path / "pywb"
    (root / "collections" / "feeds" / "archive").mkdir(parents=True)
    (root / "collections" / "feeds" / "indexes").mkdir(parents=True)
    shutil.copy(warc, root / "collections" / "feeds" / "archive")
    shutil.copy(cdxj, root / "collections" / "feeds" / "indexes" / "index.cdxj")
    (root / "config.yaml").write_text("collections_root: collections\n")
    port = free_port()
    server = subprocess.Popen(
        [str(PYWB), "-p", str(port), "-b", "127.0.0.1"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}/feeds"
        assert wait_until(lambda: _answers(f"{base}/"), timeout=60)
        page = mock_site.url("/whole/pages/budget-ld.html")
        published = mock_site.get("/whole/pages/budget-ld.html").body
        mock_site.reset_log()
        status, _, body = fetch(f"{base}/2030id_/{page}")
        assert status == 200
        assert body == published  # as it was
        status, kind, rewritten = fetch(f"{base}/2030mp_/{page}")
        assert (status, kind.split(";")[0]) == (200, "text/html")
        shown = archiver(tmp_path, "show", page, "--format", "json").json()
        images = [i for i in shown["images"] if i["status"] == "downloaded"]
        assert len(images) >= 2
        for image in images:  # the page names them (rewritten, or relative as written)
            assert (
                f"/feeds/2030im_/{image['url']}".encode() in rewritten
                or urlsplit(image["url"]).path.encode() in rewritten
            )
            status, kind, data = fetch(f"{base}/2030im_/{image['url']}")
            assert status == 200
            assert data == (tmp_path / "media" / image["path"]).read_bytes()
            assert kind.startswith("image/")
        assert mock_site.requests() == []  # replayed from the WARC, not the site
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return fetch(url)[0] == 200
    except OSError:
        return False


def test_a_crawl_killed_mid_write_leaves_readable_files_and_an_honest_index(
    mock_site: Any, tmp_path: Path
) -> None:
    feeds = [mock_site.url(path) for path in big_feed_paths(4)]
    crawl = start_archiver(
        "--db", str(tmp_path / "archive.db"), "--media", str(tmp_path / "media"),
        "crawl", "--no-images", "--full-text", "always", *feeds,
        env={"ARCHIVER_EXTRACT_PROCESSES": "0"},
    )  # fmt: skip
    try:
        assert wait_until(lambda: len(_indexed(tmp_path)) >= 20, timeout=180)
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=30)
    finally:
        if crawl.poll() is None:
            crawl.kill()
        crawl.communicate()
    (open_file,) = [p for p in warc_files(tmp_path) if p.name.endswith(OPEN_SUFFIX)]
    records, end = scan_file(open_file)
    # A kill lands between two writes or in the middle of one; make sure of the latter: a
    # record cut short, as a write the kill interrupted leaves it.
    with open_file.open("ab") as stream:
        stream.write(b"\x1f\x8b\x08\x00" + os.urandom(700))
    assert scan_file(open_file) == (records, end)
    whole = {r.offset for r in records}
    indexed = _indexed(tmp_path)
    assert indexed
    for row in indexed:  # the index names no record that is not whole in a file
        assert row["warc_file"] + OPEN_SUFFIX == open_file.name
        assert row["offset"] in whole
        _, _, body = read_record(tmp_path / "captures", row["warc_file"], row["offset"])
        assert payload_digest(body) == row["payload_digest"]

    upgraded = archiver(tmp_path, "db", "upgrade")
    assert "files closed after a crash" in upgraded.stdout
    (closed,) = warc_files(tmp_path)
    assert not closed.name.endswith(OPEN_SUFFIX)
    assert closed.stat().st_size == end
    assert_warcio_reads(tmp_path)
    after = _indexed(tmp_path)
    responses = {r.offset for r in records if r.record_type in ("response", "revisit")}
    assert {row["offset"] for row in after} == responses  # those the kill left out, too
    assert len(after) == len(responses)
    archiver(tmp_path, "db", "upgrade")  # again: nothing indexed twice
    assert len(_indexed(tmp_path)) == len(after)


def _indexed(tmp_path: Path) -> list[dict[str, Any]]:
    if not (tmp_path / "archive.db").exists():
        return []
    try:
        rows = index_rows(tmp_path)
    except sqlite3.OperationalError:  # not created yet, or being written
        time.sleep(0.1)
        return []
    return rows


def test_captures_move_to_a_remote_files_store_as_each_file_is_closed(
    mock_site: Any, tmp_path: Path
) -> None:
    with warnings.catch_warnings():  # pyftpdlib 2 still imports asyncore on Python 3.11
        warnings.simplefilter("ignore", DeprecationWarning)
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer

    root = tmp_path / "ftp"
    root.mkdir()
    authorizer = DummyAuthorizer()
    authorizer.add_user("archiver", "secret", str(root), perm="elradfmw")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer})
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    serving = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
    serving.start()
    try:
        archiver(
            tmp_path,
            "crawl", mock_site.url("/whole/summary.atom"), "--no-images",
            "-s", "ARCHIVER_CAPTURES_FILE_BYTES=4000",  # rotated during the crawl too
            env={
                "ARCHIVER_CAPTURES_DIR": f"ftp://archiver:secret@127.0.0.1:{port}/captures",
                "ARCHIVER_CAPTURES_SPOOL": str(tmp_path / "spool"),
            },
        )  # fmt: skip
    finally:
        server.close_all()
    moved = sorted((root / "captures").iterdir())
    assert len(moved) > 1
    assert all(path.name.endswith(".warc.gz") for path in moved)
    assert list((tmp_path / "spool").iterdir()) == []  # nothing left behind
    rows = index_rows(tmp_path)
    assert {row["warc_file"] for row in rows} <= {path.name for path in moved}
    for row in rows:  # each indexed record is in the file the store holds
        _, _, body = read_record(root / "captures", row["warc_file"], row["offset"])
        assert payload_digest(body) == row["payload_digest"]
    for path in moved:
        checked = warcio("check", path)
        assert checked.returncode == 0, checked.stdout + checked.stderr

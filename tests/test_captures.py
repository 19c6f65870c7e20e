"""Captures as WARC (archiver.captures.warc): records that warcio itself reads and checks."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.captures.warc import (
    OPEN_SUFFIX,
    EarlierCapture,
    SentRequest,
    WarcFileWriter,
    payload_digest,
    read_record,
    recover_files,
    scan_file,
)

PAGE = "<html><body><p>Grüße, 你好</p></body></html>".encode()
GZIPPED = gzip.compress(PAGE)
HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Encoding", "gzip"),
    ("ETag", '"v1"'),
]


def test_a_response_is_kept_as_received_and_found_at_its_offset(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path)
    when = datetime(2021, 4, 2, 6, 27, 15, tzinfo=UTC)
    first = writer.write_response(
        "https://example.com/a",
        status=200,
        reason="OK",
        headers=HEADERS,
        body=GZIPPED,
        fetched_at=when,
    )
    second = writer.write_response(
        "https://example.com/b", status=404, headers=[("Content-Type", "text/plain")], body=b"no"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / (first.warc_file + OPEN_SUFFIX)]
    writer.close()
    (path,) = tmp_path.iterdir()
    assert path.name == first.warc_file == second.warc_file
    assert path.name.endswith(".warc.gz")
    assert first.offset + first.length == second.offset
    assert (first.status, first.content_type) == (200, "text/html; charset=utf-8")
    assert first.payload_digest.startswith("sha1:")
    assert first.fetched_at == when

    # the payload exactly as the server sent it: still gzipped, its headers unchanged
    status, headers, body = read_record(tmp_path, first.warc_file, first.offset)
    assert (status, body) == (200, GZIPPED)
    assert ("Content-Encoding", "gzip") in headers
    assert ("ETag", '"v1"') in headers
    assert read_record(tmp_path, second.warc_file, second.offset)[::2] == (404, b"no")
    assert read_record(tmp_path, first.warc_file, first.offset, decoded=True)[2] == PAGE

    with path.open("rb") as stream:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"))
            for r in ArchiveIterator(stream)
        ]
    assert records == [
        ("warcinfo", None),
        ("response", "https://example.com/a"),
        ("response", "https://example.com/b"),
    ]
    with path.open("rb") as stream:
        dates = [r.rec_headers.get_header("WARC-Date") for r in ArchiveIterator(stream)]
    assert dates[1] == "2021-04-02T06:27:15.000000Z"


def test_warcio_checks_the_digests_of_what_was_written(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path)
    record = writer.write_response("https://example.com/", status=200, headers=HEADERS, body=PAGE)
    writer.close()
    checked = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", "-v", str(tmp_path / record.warc_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout


def test_files_rotate_by_size_and_a_file_being_written_is_readable(tmp_path: Path) -> None:
    writer = WarcFileWriter(tmp_path, max_bytes=2000)
    records = [
        writer.write_response(
            f"https://example.com/{n}", status=200, headers=HEADERS, body=PAGE * 20
        )
        for n in range(6)
    ]
    assert len({r.warc_file for r in records}) > 1
    open_files = [p for p in tmp_path.iterdir() if p.name.endswith(OPEN_SUFFIX)]
    assert len(open_files) <= 1
    last = records[-1]
    if open_files:  # not closed yet (a crash here would leave it): its records still read
        assert read_record(tmp_path, last.warc_file, last.offset)[2] == PAGE * 20
    writer.close()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(OPEN_SUFFIX)]
    for record in records:
        assert read_record(tmp_path, record.warc_file, record.offset)[2] == PAGE * 20


def test_an_unchanged_payload_is_a_revisit_and_each_response_has_its_request(
    tmp_path: Path,
) -> None:
    writer = WarcFileWriter(tmp_path)
    sent = SentRequest("GET", [("User-Agent", "feed-archiver"), ("Accept-Encoding", "gzip")])
    first = writer.write_response(
        "https://example.com/feed.xml", status=200, headers=HEADERS, body=GZIPPED, request=sent
    )
    again = writer.write_response(
        "https://example.com/feed.xml",
        status=200,
        headers=HEADERS,
        body=GZIPPED,
        request=sent,
        revisit_of=EarlierCapture(first.url, first.fetched_at),
        kind="feed",
    )
    writer.close()
    assert (first.record_type, again.record_type) == ("response", "revisit")
    assert again.payload_digest == first.payload_digest == payload_digest(GZIPPED)
    assert again.length < first.length
    path = tmp_path / first.warc_file
    with path.open("rb") as stream:
        records = [
            (r.rec_type, dict(r.rec_headers.headers), r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]
    kinds = [kind for kind, _, _ in records]
    assert kinds == ["warcinfo", "response", "request", "revisit", "request"]
    _, revisit, payload = records[3]
    assert payload == b""  # the headers only
    assert revisit["WARC-Refers-To-Target-URI"] == "https://example.com/feed.xml"
    assert revisit["WARC-Profile"].endswith("/revisit/identical-payload-digest")
    assert revisit["WARC-Archiver-Kind"] == "feed"
    _, request, _ = records[2]
    assert request["WARC-Concurrent-To"] == dict(records[1][1])["WARC-Record-ID"]
    checked = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_torn_last_record_is_found_and_cut_off_when_the_file_is_recovered(
    tmp_path: Path,
) -> None:
    writer = WarcFileWriter(tmp_path)
    records = [
        writer.write_response(f"https://example.com/{n}", status=200, headers=HEADERS, body=PAGE)
        for n in range(3)
    ]
    assert writer._handle is not None
    writer._handle.close()  # the process dies: its file stays named .open
    (path,) = tmp_path.iterdir()
    assert path.name.endswith(OPEN_SUFFIX)
    whole = path.stat().st_size
    with path.open("ab") as stream:  # a record cut short: what a kill during a write leaves
        stream.write(gzip.compress(b"WARC/1.0\r\nWARC-Type: response\r\n" + os.urandom(4000))[:900])
    found, end = scan_file(path)
    assert [r.offset for r in found if r.record_type == "response"] == [r.offset for r in records]
    assert end == whole
    # a file another process is still writing is left alone; a dead writer's is closed
    assert recover_files(tmp_path) == []
    renamed = path.with_name(path.name.replace(str(os.getpid()), "999999999"))
    path.rename(renamed)
    (closed,) = recover_files(tmp_path)
    assert closed.name.endswith(".warc.gz")
    assert closed.stat().st_size == whole
    checked = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", str(closed)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr

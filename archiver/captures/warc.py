"""Writing responses as WARC records (ISO 28500) with warcio, in size-rotated gzip files.

Each record is its own gzip member, so a record is read from its offset alone (what the
capture index stores and replay tools such as pywb expect). A file being written is named
``*.warc.gz.open`` and renamed when it is closed: a crash never leaves a file that looks
finished, and the records already in it stay readable. A record is indexed only once it is
wholly in its file (written and flushed), so the index never names a torn record; a file a
killed crawl left open is cut back to its last whole record and closed by
:func:`recover_files`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.items import CaptureRecord

MAX_FILE_BYTES = 1024**3
"""A WARC file is closed and a new one begun once it passes this size (1 GiB, the usual)."""

OPEN_SUFFIX = ".open"

KIND_HEADER = "WARC-Archiver-Kind"
"""An extension field (ISO 28500 §5.1 allows them) on each response and revisit record: what
the archive fetched it as (``feed``, ``sitemap``, ``page``), so the index can be rebuilt from
the files alone."""
SOURCE_HEADER = "WARC-Archiver-Source"
"""Another: the source the response was fetched for."""


@dataclass(frozen=True)
class SentRequest:
    """The request a response answered, kept as a ``request`` record beside it."""

    method: str
    headers: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class EarlierCapture:
    """The record whose payload a revisit repeats: its URL and when it was fetched."""

    url: str
    fetched_at: datetime


def payload_digest(body: bytes) -> str:
    """The ``WARC-Payload-Digest`` warcio writes for *body*: ``sha1:`` and base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")  # noqa: S324 -- WARC's digest


def warc_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class WarcFileWriter:
    """Append response records to rotating WARC files in one directory (thread-safe).

    *on_closed* is called with each file's final path once it is closed (rotation or
    :meth:`close`): where a remote store takes it over.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        prefix: str = "archiver",
        max_bytes: int = MAX_FILE_BYTES,
        on_closed: Callable[[Path], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.on_closed = on_closed
        self._lock = threading.Lock()
        self._handle: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._path: Path | None = None

    def write_response(
        self,
        url: str,
        *,
        status: int,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        fetched_at: datetime | None = None,
        reason: str = "",
        protocol: str = "HTTP/1.1",
        ip_address: str | None = None,
        request: SentRequest | None = None,
        revisit_of: EarlierCapture | None = None,
        kind: str | None = None,
        source_url: str | None = None,
    ) -> CaptureRecord:
        """Write one HTTP response, headers and payload exactly as given, and say where.

        With *revisit_of* (an earlier record of the same payload) it is a ``revisit`` record
        (profile identical-payload-digest): the headers, not the payload. With *request*,
        a ``request`` record follows it (``WARC-Concurrent-To`` the response); the caller
        decides whether a revisit has one (``ARCHIVER_CAPTURES_REVISIT_REQUESTS``)."""
        fetched_at = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        status_line = f"{status} {reason}".strip() if reason else str(status)
        http_headers = StatusAndHeaders(status_line, list(headers), protocol=protocol)
        warc_headers = {"WARC-Date": warc_date(fetched_at)}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        if kind:
            warc_headers[KIND_HEADER] = kind
        if source_url:
            warc_headers[SOURCE_HEADER] = source_url
        with self._lock:
            path, stream, writer = self._current()
            if revisit_of is not None:
                record = writer.create_revisit_record(
                    url,
                    payload_digest(body),
                    revisit_of.url,
                    warc_date(revisit_of.fetched_at),
                    http_headers=http_headers,
                    warc_headers_dict=warc_headers,
                )
            else:
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    http_headers=http_headers,
                    warc_headers_dict=warc_headers,
                )
            offset = stream.tell()
            writer.write_record(record)
            length = stream.tell() - offset
            if request is not None:
                writer.write_record(_request_record(writer, url, request, fetched_at, record))
            stream.flush()  # whole in the file before anyone indexes it
            if stream.tell() >= self.max_bytes:
                self._close_current()
        return CaptureRecord(
            url=url,
            fetched_at=fetched_at,
            status=status,
            content_type=http_headers.get_header("Content-Type"),
            payload_digest=record.rec_headers.get_header("WARC-Payload-Digest"),
            warc_file=path.name.removesuffix(OPEN_SUFFIX),
            offset=offset,
            length=length,
            record_type=record.rec_type,
        )

    def close(self) -> None:
        """Finish the current file (renamed to its final ``.warc.gz`` name)."""
        with self._lock:
            self._close_current()

    def _current(self) -> tuple[Path, BinaryIO, WARCWriter]:
        if self._path is None or self._handle is None or self._writer is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            name = f"{self.prefix}-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.warc.gz"
            self._path = self.directory / (name + OPEN_SUFFIX)
            self._handle = self._path.open("xb")
            self._writer = WARCWriter(self._handle, gzip=True)
            info = {
                "software": f"feed-archiver/{__version__} (warcio)",
                "hostname": socket.gethostname(),
                "format": "WARC File Format 1.0",
            }
            self._writer.write_record(self._writer.create_warcinfo_record(name, info))
        return self._path, self._handle, self._writer

    def _close_current(self) -> None:
        if self._path is None or self._handle is None:
            return
        self._handle.close()
        final = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        self._path.rename(final)
        self._path = None
        self._handle = None
        self._writer = None
        if self.on_closed is not None:
            self.on_closed(final)


def _request_record(
    writer: WARCWriter,
    url: str,
    request: SentRequest,
    fetched_at: datetime,
    response: object,
) -> object:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = list(request.headers)
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    http_headers = StatusAndHeaders(
        f"{request.method} {target} HTTP/1.1", headers, is_http_request=True
    )
    response_id = response.rec_headers.get_header("WARC-Record-ID")  # type: ignore[attr-defined]
    return writer.create_warc_record(
        url,
        "request",
        payload=BytesIO(b""),
        length=0,
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": warc_date(fetched_at), "WARC-Concurrent-To": response_id},
    )


def warc_path(directory: str | Path, warc_file: str) -> Path:
    """Where *warc_file* is: its final name, else the one it has while being written."""
    path = Path(directory) / warc_file
    if not path.exists():
        path = path.with_name(path.name + OPEN_SUFFIX)
    return path


def read_record(
    directory: str | Path, warc_file: str, offset: int, *, decoded: bool = False
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and payload of the response record at *offset* in *warc_file*:
    the payload as received, or with its ``Content-Encoding`` undone when *decoded* (a
    revisit record's payload is empty: it is in the record it refers to)."""
    from warcio.archiveiterator import ArchiveIterator

    with warc_path(directory, warc_file).open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        headers = record.http_headers
        payload = (record.content_stream() if decoded else record.raw_stream).read()
        return int(headers.get_statuscode()), list(headers.headers), payload


@dataclass(frozen=True)
class StoredRecord:
    """One whole record found in a WARC file: where it is and what its headers say."""

    offset: int
    length: int
    record_type: str
    url: str | None
    fetched_at: datetime | None
    status: int | None
    content_type: str | None
    payload_digest: str | None
    kind: str | None
    source_url: str | None


def scan_file(path: str | Path) -> tuple[list[StoredRecord], int]:
    """Every whole record of a WARC file of gzip members, and the offset where whole
    records end: a torn last member (a crash while it was written) is not among them."""
    from warcio.archiveiterator import ArchiveIterator

    records: list[StoredRecord] = []
    end = 0
    with Path(path).open("rb") as walked, Path(path).open("rb") as stream:
        for offset, length in _gzip_members(walked):
            if length is None:
                return records, offset
            end = offset + length
            stream.seek(offset)
            try:
                record = next(iter(ArchiveIterator(stream)), None)
            except Exception:  # a whole gzip member that holds no WARC record: ends here too
                return records, offset
            if record is None:
                continue
            headers = record.rec_headers
            http = record.http_headers
            date = headers.get_header("WARC-Date")
            is_response = record.rec_type in ("response", "revisit") and http is not None
            records.append(
                StoredRecord(
                    offset=offset,
                    length=length,
                    record_type=record.rec_type,
                    url=headers.get_header("WARC-Target-URI"),
                    fetched_at=datetime.fromisoformat(date.replace("Z", "+00:00"))
                    if date
                    else None,
                    status=int(http.get_statuscode()) if is_response else None,
                    content_type=http.get_header("Content-Type") if is_response else None,
                    payload_digest=headers.get_header("WARC-Payload-Digest"),
                    kind=headers.get_header(KIND_HEADER),
                    source_url=headers.get_header(SOURCE_HEADER),
                )
            )
    return records, end


def _gzip_members(stream: BinaryIO, chunk: int = 1 << 20) -> Iterator[tuple[int, int | None]]:
    """The offset and compressed length of each gzip member of *stream*, read in chunks; a
    member cut short (or not gzip) comes with length ``None`` and ends the walk."""
    offset = 0
    pending = b""
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        consumed = 0
        data = pending or stream.read(chunk)
        if not data:
            return
        while True:
            try:
                inflater.decompress(data)
            except zlib.error:
                yield offset, None
                return
            if inflater.eof:
                used = len(data) - len(inflater.unused_data)
                consumed += used
                pending = inflater.unused_data
                break
            consumed += len(data)
            data = stream.read(chunk)
            if not data:
                yield offset, None
                return
        yield offset, consumed
        offset += consumed


def recover_files(directory: str | Path) -> list[Path]:
    """Close the files that crawls killed while writing left open (``*.open`` of a process
    no longer running): each is cut back to its last whole record and renamed. The files
    recovered."""
    recovered = []
    for path in sorted(Path(directory).glob(f"*.warc.gz{OPEN_SUFFIX}")):
        if _writer_alive(path.name):
            continue
        _records, end = scan_file(path)
        with path.open("r+b") as stream:
            stream.truncate(end)
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        path.rename(final)
        recovered.append(final)
    return recovered


def _writer_alive(name: str) -> bool:
    """Whether the process that named the file (``prefix-stamp-pid-hex``) still runs here."""
    try:
        pid = int(name.split("-")[-2])
    except (IndexError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

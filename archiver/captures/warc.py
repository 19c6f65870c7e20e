"""Writing responses as WARC records (ISO 28500) with warcio, in size-rotated gzip files.

Each record is its own gzip member, so a record is read from its offset alone (what the
capture index stores and replay tools such as pywb expect). A file being written is named
``*.warc.gz.open`` and renamed when it is closed: a crash never leaves a file that looks
finished, and the records already in it stay readable.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.items import CaptureRecord

MAX_FILE_BYTES = 1024**3
"""A WARC file is closed and a new one begun once it passes this size (1 GiB, the usual)."""

OPEN_SUFFIX = ".open"


class WarcFileWriter:
    """Append response records to rotating WARC files in one directory (thread-safe)."""

    def __init__(
        self, directory: str | Path, *, prefix: str = "archiver", max_bytes: int = MAX_FILE_BYTES
    ) -> None:
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_bytes = max_bytes
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
    ) -> CaptureRecord:
        """Write one HTTP response, headers and payload exactly as given, and say where."""
        fetched_at = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        status_line = f"{status} {reason}".strip() if reason else str(status)
        http_headers = StatusAndHeaders(status_line, list(headers), protocol=protocol)
        warc_headers = {"WARC-Date": fetched_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        with self._lock:
            path, stream, writer = self._current()
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
            stream.flush()
            length = stream.tell() - offset
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
        self._path.rename(self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX)))
        self._path = None
        self._handle = None
        self._writer = None


def read_record(
    directory: str | Path, warc_file: str, offset: int, *, decoded: bool = False
) -> tuple[int, list[tuple[str, str]], bytes]:
    """The status, headers and payload of the response record at *offset* in *warc_file*:
    the payload as received, or with its ``Content-Encoding`` undone when *decoded*."""
    from warcio.archiveiterator import ArchiveIterator

    path = Path(directory) / warc_file
    if not path.exists():
        path = path.with_name(path.name + OPEN_SUFFIX)
    with path.open("rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)))
        headers = record.http_headers
        payload = (record.content_stream() if decoded else record.raw_stream).read()
        return int(headers.get_statuscode()), list(headers.headers), payload

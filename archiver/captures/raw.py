"""An article's raw response, as ``archiver show ID --capture`` prints it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.captures.warc import read_record
from archiver.errors import NotFoundError


def raw_response(archive: Any, directory: str | Path, article: dict[str, Any]) -> bytes:
    """The HTTP response *article* was read from (its page's latest capture, else its
    feed's), as received: status line, headers, a blank line, the payload (still
    compressed when it came so). A revisit's payload is read from the record it repeats."""
    capture = archive.captures.serving(article["id"])
    if capture is None:
        raise NotFoundError(f"article {article['id']} has no capture")
    status, headers, _payload = read_record(directory, capture.warc_file, capture.offset)
    original = archive.captures.original(capture)
    if original is not capture:
        _status, _headers, payload = read_record(directory, original.warc_file, original.offset)
    else:
        payload = _payload
    head = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1", "replace") + payload

"""``archiver export DIR --format warc``: chosen articles as one WARC and its CDXJ index.

The file holds, for each article, its page's latest capture, the capture of its source's feed
the archive last read, and its images from the media store as ``response`` records at their
original URLs, so pywb and ReplayWeb.page replay the page as it was with its images from the
archive. Captured records are copied as they are in the capture store (gzip member for gzip
member: the same record ids, dates and digests); a revisit is exported as the response whose
payload it repeats, so the file stands alone. ``archive.cdxj`` indexes every response
(pywb's CDXJ: SURT key, 14-digit time, JSON), sorted.
"""

from __future__ import annotations

import json
import mimetypes
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver import __version__
from archiver.captures.warc import KIND_HEADER, warc_date, warc_path

WARC_NAME = "archive.warc.gz"
CDXJ_NAME = "archive.cdxj"


@dataclass
class WarcExportReport:
    """What a WARC export wrote."""

    directory: str
    warc: str
    cdxj: str
    articles: int = 0
    pages: int = 0
    feeds: int = 0
    images: int = 0
    images_missing: int = 0
    """Images the articles show that the media store does not hold (never downloaded)."""
    articles_without_capture: int = 0
    bytes: int = 0


def export_warc(
    archive: Any,
    articles: Iterable[dict[str, Any]],
    directory: str | Path,
    *,
    captures_dir: str | Path,
    media_dir: str | Path,
) -> WarcExportReport:
    """Write *articles* (``archive.articles.export`` dicts) into *directory* as
    ``archive.warc.gz`` and ``archive.cdxj``; *archive* resolves revisits and feeds."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    warc_file = directory / WARC_NAME
    report = WarcExportReport(str(directory), str(warc_file), str(directory / CDXJ_NAME))
    lines: list[str] = []
    partial = warc_file.with_name(warc_file.name + ".part")
    try:
        _write(archive, articles, partial, report, lines, captures_dir, Path(media_dir))
    except BaseException:
        partial.unlink(missing_ok=True)  # never a half-written file beside the finished ones
        raise
    partial.replace(warc_file)
    (directory / CDXJ_NAME).write_text("".join(sorted(lines)), encoding="utf-8")
    return report


def _write(
    archive: Any,
    articles: Iterable[dict[str, Any]],
    partial: Path,
    report: WarcExportReport,
    lines: list[str],
    captures_dir: str | Path,
    media_dir: Path,
) -> None:
    copied: set[tuple[str, int]] = set()
    images_written: set[str] = set()
    with partial.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        info = {
            "software": f"feed-archiver/{__version__} (warcio)",
            "hostname": socket.gethostname(),
            "format": "WARC File Format 1.0",
        }
        writer.write_record(writer.create_warcinfo_record(WARC_NAME, info))
        for article in articles:
            report.articles += 1
            captures = []
            page = archive.captures.serving(article["id"])
            if page is not None:
                captures.append(page)
                if page.kind == "page":
                    # the last response of its feed (or sitemap) that held it, else (an
                    # article indexed before that was kept) its source's latest feed
                    listing = archive.captures.last_listing(article["id"])
                    if listing is not None and listing.id != page.id:
                        captures.append(listing)
                    elif listing is None and page.source_url:
                        feeds = archive.captures.of_source(page.source_url, ("feed",))
                        captures.extend(feeds[-1:])
            if not captures:
                report.articles_without_capture += 1
            for capture in captures:
                original = archive.captures.original(capture)
                key = (original.warc_file, original.offset)
                if key in copied:
                    continue
                copied.add(key)
                offset = stream.tell()
                stream.write(_member(captures_dir, original))
                lines.append(_cdxj(original.url, original.fetched_at, {
                    "mime": _mime(original.content_type),
                    "status": str(original.status),
                    "digest": original.payload_digest.removeprefix("sha1:"),
                    "length": str(stream.tell() - offset),
                    "offset": str(offset),
                    "filename": WARC_NAME,
                }))  # fmt: skip
                if original.kind == "feed":
                    report.feeds += 1
                else:
                    report.pages += 1
            fetched = page.fetched_at if page is not None else datetime.now(UTC)
            for image in article.get("images") or ():
                if image["url"] in images_written:
                    continue
                line = _write_image(writer, stream, image, media_dir, fetched)
                if line is None:
                    report.images_missing += 1
                    continue
                images_written.add(image["url"])
                lines.append(line)
                report.images += 1
        report.bytes = stream.tell()


def _member(captures_dir: str | Path, capture: Any) -> bytes:
    """The gzip member of an indexed record, byte for byte."""
    with warc_path(captures_dir, capture.warc_file).open("rb") as source:
        source.seek(capture.offset)
        member = source.read(capture.length)
    if len(member) != capture.length:
        raise OSError(f"{capture.warc_file} ends before its record at {capture.offset}")
    return member


def _write_image(
    writer: WARCWriter,
    stream: BinaryIO,
    image: dict[str, Any],
    media_dir: Path,
    fetched: datetime,
) -> str | None:
    """An archived image as a ``response`` record at its original URL; its CDXJ line."""
    if image.get("status") != "downloaded" or not image.get("path"):
        return None
    path = media_dir / image["path"]
    if not path.is_file():
        return None
    body = path.read_bytes()
    media_type = image.get("media_type") or mimetypes.guess_type(path.name)[0]
    media_type = media_type or "application/octet-stream"
    when = _parse_time(image.get("last_attempt")) or fetched
    http_headers = StatusAndHeaders(
        "200 OK",
        [("Content-Type", media_type), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(
        image["url"],
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=http_headers,
        warc_headers_dict={"WARC-Date": warc_date(when), KIND_HEADER: "image"},
    )
    offset = stream.tell()
    writer.write_record(record)
    digest = record.rec_headers.get_header("WARC-Payload-Digest") or ""
    return _cdxj(image["url"], when, {
        "mime": media_type,
        "status": "200",
        "digest": digest.removeprefix("sha1:"),
        "length": str(stream.tell() - offset),
        "offset": str(offset),
        "filename": WARC_NAME,
    })  # fmt: skip


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _mime(content_type: str | None) -> str:
    return (content_type or "unk").split(";", 1)[0].strip().lower() or "unk"


def _cdxj(url: str, when: datetime, fields: dict[str, str]) -> str:
    timestamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    return f"{surt(url)} {timestamp} {json.dumps({'url': url, **fields})}\n"


def surt(url: str) -> str:
    """The Sort-friendly URI Reordering Transform pywb keys its CDXJ by: host reversed by
    label (``www.`` dropped), ``)``, then the path and query, lowercased, the query's
    parameters sorted (as the ``surt`` package does by default)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().strip(".")
    if host.startswith("www."):
        host = host[4:]
    key = ",".join(reversed(host.split(".")))  # an IP address too, as the surt package does
    if parts.port and parts.port not in (80, 443):
        key += f":{parts.port}"
    path = parts.path or "/"
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return f"{key}){path}{'?' + query if query else ''}".lower()

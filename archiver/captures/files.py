"""The capture directory after a crash: files closed, records the index missed indexed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.captures.warc import OPEN_SUFFIX, recover_files, scan_file


@dataclass
class IndexReport:
    """What :func:`index_files` did."""

    files: int = 0
    recovered: list[str] = field(default_factory=list)
    """Files a killed crawl left open, cut back to their last whole record and closed."""
    indexed: int = 0
    """Records the index did not name yet (written, then the crawl killed before indexing)."""


def index_files(archive: Any, directory: str | Path) -> IndexReport:
    """Close the files killed crawls left open, then index every whole ``response`` and
    ``revisit`` record that the index does not name yet; running it again indexes nothing
    (rows are matched by file and offset)."""
    directory = Path(directory)
    report = IndexReport()
    if not directory.is_dir():
        return report
    report.recovered = [path.name for path in recover_files(directory)]
    for path in sorted(directory.glob("*.warc.gz*")):
        name = path.name.removesuffix(OPEN_SUFFIX)
        report.files += 1
        known = archive.captures.indexed_offsets(name)
        records, _end = scan_file(path)
        rows = [
            {
                "url": record.url,
                "fetched_at": record.fetched_at,
                "status": record.status,
                "content_type": record.content_type,
                "payload_digest": record.payload_digest or "",
                "warc_file": name,
                "offset": record.offset,
                "length": record.length,
                "record_type": record.record_type,
                "kind": record.kind or "page",
                "source_url": record.source_url,
            }
            for record in records
            if record.record_type in ("response", "revisit")
            and record.offset not in known
            and record.url
            and record.fetched_at
            and record.status is not None
        ]
        report.indexed += archive.captures.add_found(rows)
    return report

"""Listings on the command line: aligned tables (CJK-aware), JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import click

FORMATS = ("table", "json", "csv")


def render(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """*rows* as text in *fmt*; JSON keeps every key, table and CSV show *columns*."""
    if fmt == "json":
        return to_json(list(rows))
    if fmt == "csv":
        return to_csv(rows, columns)
    return to_table(rows, columns)


def echo_report(report: Any, as_json: bool, line: str) -> None:
    """What a command did: its report (a dataclass) as JSON with ``--json``, else *line*."""
    click.echo(to_json(asdict(report)) if as_json else line)


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_cell(row.get(c), joiner="|") for c in columns)
    return buffer.getvalue().rstrip("\n")


def to_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], max_width: int = 60) -> str:
    if not rows:
        return "(nothing)"
    cells = [[_clip(_cell(row.get(c)), max_width) for c in columns] for row in rows]
    widths = [
        max(display_width(c), *(display_width(line[i]) for line in cells))
        for i, c in enumerate(columns)
    ]
    lines = [_pad_row(columns, widths), _pad_row(["-" * w for w in widths], widths)]
    lines.extend(_pad_row(line, widths) for line in cells)
    return "\n".join(line.rstrip() for line in lines)


def display_width(text: str) -> int:
    """Columns *text* takes on a terminal: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad_row(values: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(v + " " * (w - display_width(v)) for v, w in zip(values, widths, strict=True))


def _clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        used += display_width(ch)
        if used > width - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


def _cell(value: Any, joiner: str = ", ") -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return joiner.join(str(v) for v in value)
    return " ".join(str(value).split())

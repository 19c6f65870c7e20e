"""The reader's Jinja2 environment (autoescaped, templates in `templates/`) and its filters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup


def make_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("archiver.web", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["highlight"] = highlight
    environment.filters["when"] = when
    environment.filters["in_zone"] = in_zone
    environment.filters["size"] = human_size
    return environment


def highlight(text: str | None, terms: Sequence[str]) -> Markup:
    """*text* escaped, the query's *terms* in ``<mark>`` (case-insensitive)."""
    value = text or ""
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not words:
        return Markup(escape(value))  # noqa: S704 -- escaped just here
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    parts: list[str] = []
    last = 0
    for match in pattern.finditer(value):
        parts.append(escape(value[last : match.start()]))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(escape(value[last:]))
    return Markup("".join(parts))  # noqa: S704 -- every piece escaped above


def _parse(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def when(value: str | datetime | None) -> str:
    """An ISO 8601 time as ``2021-04-02 06:27 UTC``; an em dash for none."""
    moment = _parse(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def in_zone(value: str | datetime | None, zone: str | None) -> str:
    """The time in the IANA *zone* (``2021-04-02 14:27 +08:00 Asia/Shanghai``); empty when
    there is no time or no known zone."""
    moment = _parse(value)
    if moment is None or not zone:
        return ""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]} {zone}"


def human_size(value: int | None) -> str:
    """Bytes in B, KiB, MiB, GiB."""
    size = float(value or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"

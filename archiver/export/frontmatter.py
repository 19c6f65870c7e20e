"""YAML front-matter written by hand, key by key, so it reads exactly like the seed's posts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

# A plain (unquoted) scalar only when it cannot be read as anything but this string, in
# YAML 1.1 (PyYAML, Jekyll's Psych) and 1.2 (js-yaml for Hexo, Hugo) alike.
_PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`][^:#\n\r\t]*")
_NOT_A_STRING = re.compile(
    r"(?i)(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\.?\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?"
    r"|0x[0-9a-f_]+|0o?[0-7_]+|\.inf|\.nan)|\d{4}-\d\d?-\d\d?.*|\d+(?::[0-5]?\d)+(?:\.\d*)?)"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def plain_or_quoted(value: str) -> str:
    """*value* unquoted when YAML reads it back as the same string, else single-quoted."""
    if (
        value
        and value == value.strip()
        and _PLAIN.fullmatch(value)
        and not _NOT_A_STRING.fullmatch(value)
    ):
        return value
    return single_quoted(value)


def single_quoted(value: str) -> str:
    """``'value'`` (``'`` doubled), or a double-quoted scalar when it holds line breaks or
    control characters, which single quotes cannot carry."""
    if "\n" in value or "\r" in value or _CONTROL.search(value):
        return double_quoted(value)
    return "'" + value.replace("'", "''") + "'"


def double_quoted(value: str) -> str:
    """``"value"``: a JSON string is a valid YAML double-quoted scalar."""
    return json.dumps(value, ensure_ascii=False)


def seed_quoted(value: str) -> str:
    """The seed's title quoting: ``'...'``, or ``"..."`` when the value holds a ``'``."""
    if "'" in value and not _CONTROL.search(value) and "\n" not in value:
        return double_quoted(value)
    return single_quoted(value)


def rfc1123(value: datetime) -> str:
    """``Fri, 02 Apr 2021 06:27:15 GMT``: the seed's date form. js-yaml leaves it a string
    and JavaScript's ``Date`` reads it as the exact instant, whatever the machine's zone
    (an unquoted YAML timestamp would be shifted into local time by hexo-front-matter)."""
    return format_datetime(value.astimezone(UTC), usegmt=True)


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def block(entries: Iterable[tuple[str, Any]]) -> str:
    """Lines of ``key: value`` from pre-rendered values; lists as `` - item`` lines.

    A list value renders as ``key: `` (with the seed's trailing space) then one line per item;
    an empty list as ``key: []``.
    """
    lines: list[str] = []
    for key, value in entries:
        if isinstance(value, list):
            if not value:
                lines.append(f"{key}: []")
                continue
            lines.append(f"{key}: ")
            lines.extend(f" - {item}" for item in value)
        else:
            lines.append(f"{key}: {value}" if value != "" else f"{key}:")
    return "\n".join(lines) + "\n"


def escape_braces(html: str) -> str:
    """``{`` and ``}`` as ``&#123;``/``&#125;``, so Hexo's Nunjucks and Jekyll's Liquid leave
    the body alone (a browser shows the same characters)."""
    return html.replace("{", "&#123;").replace("}", "&#125;")


def unescape_braces(html: str) -> str:
    return html.replace("&#123;", "{").replace("&#125;", "}")


def source_label(article: Mapping[str, Any]) -> str:
    """Who the post is by: its authors, else its source's title, else the source's name."""
    if article.get("authors"):
        return ", ".join(article["authors"])
    source = article.get("source_info") or {}
    return str(source.get("title") or article.get("source") or "")

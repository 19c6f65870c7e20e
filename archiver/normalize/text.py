"""Titles, plain text, summaries, categories and language of an article."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_TAG = re.compile(r"<[^>]*>")


def clean_title(
    raw: str | None, *, source_name: str | None = None, max_length: int = 500
) -> str | None:
    """A title fit for display: unescaped, untagged, one line, without the site's suffix."""
    if not isinstance(raw, str):
        return None
    title = " ".join(html.unescape(_TAG.sub("", raw)).split())
    if source_name:
        pattern = r"\s*[-|_–—]\s*" + re.escape(source_name.strip()) + r"\s*$"
        stripped = re.sub(pattern, "", title, flags=re.IGNORECASE)
        title = stripped or title
    if len(title) > max_length:
        title = title[: max_length - 1] + "…"
    return title or None


def html_to_text(html_text: str | None) -> str:
    """The plain text of a body, for search."""
    if not isinstance(html_text, str):
        return ""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", "", html_text)
    text = re.sub(r"(?i)<(br|/p|/div|/li|/h[1-6])\b[^>]*>", "\n", text)
    lines = (" ".join(line.split()) for line in html.unescape(_TAG.sub("", text)).splitlines())
    return "\n".join(line for line in lines if line)


def make_summary(summary_html: str | None, text: str | None, *, max_chars: int = 280) -> str | None:
    """The feed's summary as text, else the first sentences of the body."""
    source = html_to_text(summary_html) or (text or "")
    source = " ".join(source.split())
    if not source:
        return None
    if len(source) <= max_chars:
        return source
    return source[: max_chars - 1] + "…"


def clean_terms(values: Iterable[str | None]) -> list[str]:
    """Categories or tags: trimmed, collapsed, de-duplicated case-insensitively, in order."""
    seen: set[str] = set()
    terms: list[str] = []
    for value in values:
        if not isinstance(value, str):
            continue
        term = " ".join(value.split())
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    return terms


def detect_language(declared: str | None, text: str | None) -> str | None:
    """The declared language normalized, else a cheap guess from the script of the text."""
    if isinstance(declared, str) and declared.strip():
        return declared.strip().lower().replace("_", "-")
    if not isinstance(text, str) or not text:
        return None
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return "zh" if han > len(text) * 0.3 else None

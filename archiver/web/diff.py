"""A readable diff between two versions of an article: their text, line by line (difflib)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from archiver.normalize.text import html_to_text


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: ``same``, ``added``, ``removed`` or ``gap`` (lines left out)."""

    kind: str
    text: str


def text_diff(before_html: str | None, after_html: str | None, context: int = 2) -> list[DiffLine]:
    """What changed from *before_html* to *after_html*, as their text (block elements are
    lines): changed lines with *context* unchanged lines around them, ``gap`` between."""
    before = html_to_text(before_html or "").splitlines()
    after = html_to_text(after_html or "").splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", "…"))
        for tag, a_start, a_end, b_start, b_end in group:
            if tag == "equal":
                lines.extend(DiffLine("same", text) for text in before[a_start:a_end])
                continue
            lines.extend(DiffLine("removed", text) for text in before[a_start:a_end])
            lines.extend(DiffLine("added", text) for text in after[b_start:b_end])
    return lines

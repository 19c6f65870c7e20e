"""Markdown, minimally: enough of it as HTML to archive and search an imported post."""

from __future__ import annotations

import html
import re


def markdown_to_html(text: str) -> str:
    """Common Markdown as HTML: headings, paragraphs, lists, quotes, fenced code, images,
    links, emphasis and inline code; HTML blocks pass through. Enough to archive and search a
    post; the source is kept beside it (``raw["import"]["markdown"]``)."""
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        fence = re.match(r"(```|~~~)\s*([\w+-]*)", stripped)
        if fence:
            flush()
            code: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                code.append(lines[index])
                index += 1
            language = f' class="language-{fence.group(2)}"' if fence.group(2) else ""
            out.append(f"<pre><code{language}>{html.escape(chr(10).join(code))}</code></pre>")
        elif not stripped:
            flush()
        elif heading := re.match(r"(#{1,6})\s+(.*?)\s*#*$", stripped):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"[-*+]\s+|\d+[.)]\s+", stripped):
            flush()
            ordered = bool(re.match(r"\d", stripped))
            tag = "ol" if ordered else "ul"
            items: list[str] = []
            while index < len(lines) and re.match(r"\s*(?:[-*+]|\d+[.)])\s+", lines[index]):
                items.append(re.sub(r"\s*(?:[-*+]|\d+[.)])\s+", "", lines[index], count=1))
                index += 1
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{tag}>")
            continue
        elif stripped.startswith(">"):
            flush()
            quoted: list[str] = []
            while index < len(lines) and lines[index].strip().startswith(">"):
                quoted.append(lines[index].strip()[1:].lstrip())
                index += 1
            out.append(f"<blockquote>{markdown_to_html(chr(10).join(quoted))}</blockquote>")
            continue
        elif stripped.startswith("<"):
            flush()
            out.append(line)
        else:
            paragraph.append(stripped)
        index += 1
    flush()
    return "\n".join(out)


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]+`)", text)
    rendered = []
    for piece in parts:
        part = piece
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            rendered.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = re.sub(
            r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"([^\"]*)\")?\s*\)",
            lambda m: f'<img src="{html.escape(m.group(2))}" alt="{html.escape(m.group(1))}">',
            part,
        )
        part = re.sub(
            r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"([^\"]*)\")?\s*\)",
            lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>',
            part,
        )
        part = re.sub(
            r"\*\*(.+?)\*\*|__(.+?)__",
            lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>",
            part,
        )
        part = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\*)", r"<em>\1</em>", part)
        rendered.append(part)
    return "".join(rendered)

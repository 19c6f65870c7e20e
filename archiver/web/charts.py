"""Charts drawn on the server as SVG: articles per month, and a source's months in small.

Pure: counts in, markup out. Presentation attributes only (no ``style``): the reader's
Content-Security-Policy allows no inline style, and needs none for these.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from *first* to *last*, both included."""
    year, month = (int(part) for part in first.split("-"))
    end = tuple(int(part) for part in last.split("-"))
    found: list[str] = []
    while (year, month) <= end and len(found) < 1200:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def filled(counts: Mapping[str, int], last: int | None = None) -> list[tuple[str, int]]:
    """*counts* by month with the months between them at zero; only the *last* months
    when given."""
    if not counts:
        return []
    keys = sorted(counts)
    months = months_between(keys[0], keys[-1])
    if last is not None:
        months = months[-last:]
    return [(month, int(counts.get(month, 0))) for month in months]


def bar_chart(
    points: list[tuple[str, int]],
    *,
    title: str,
    width: int = 720,
    height: int = 180,
) -> str:
    """A bar chart of *points* (label, count), the first and last labels under it and the
    largest count beside it; each bar carries its label and count as a tooltip."""
    if not points:
        return ""
    top = max(count for _, count in points) or 1
    left, bottom, plot_height = 40, 20, height - 30
    step = (width - left) / len(points)
    bar = max(step * 0.8, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{plot_height}" x2="{width}" y2="{plot_height}" '
        'stroke="#999" stroke-width="1"/>',
        f'<text x="{left - 4}" y="12" text-anchor="end" font-size="11" fill="#555">{top}</text>',
    ]
    for index, (label, count) in enumerate(points):
        bar_height = plot_height * count / top
        x = left + index * step
        parts.append(
            f'<rect x="{x:.1f}" y="{plot_height - bar_height:.1f}" width="{bar:.1f}" '
            f'height="{bar_height:.1f}" fill="#3b6ea5"><title>{escape(label)}: {count}'
            "</title></rect>"
        )
    first, last = points[0][0], points[-1][0]
    parts.append(
        f'<text x="{left}" y="{height - bottom + 14}" font-size="11" fill="#555">'
        f"{escape(first)}</text>"
    )
    if last != first:
        parts.append(
            f'<text x="{width}" y="{height - bottom + 14}" text-anchor="end" font-size="11" '
            f'fill="#555">{escape(last)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline(
    points: list[tuple[str, int]], *, title: str, width: int = 120, height: int = 24
) -> str:
    """A small bar chart without labels, for a table cell."""
    if not points:
        return ""
    top = max(count for _, count in points) or 1
    step = width / len(points)
    bars = "".join(
        f'<rect x="{index * step:.1f}" y="{height - height * count / top:.1f}" '
        f'width="{max(step - 1, 1):.1f}" height="{height * count / top:.1f}" fill="#3b6ea5">'
        f"<title>{escape(label)}: {count}</title></rect>"
        for index, (label, count) in enumerate(points)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spark" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{bars}</svg>"
    )

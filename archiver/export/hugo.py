"""Hugo page bundles: ``content/posts/<slug>/index.html`` with the article's images inside.

The content file is HTML, which Hugo passes through as it is, so the body renders with Hugo's
default configuration (its Markdown renderer, goldmark, drops raw HTML unless
``markup.goldmark.renderer.unsafe`` is set: a ``.md`` file of HTML came out as ``<!-- raw
HTML omitted -->``). Copied images sit beside ``index.html`` (``<sha256>.<ext>``) and the body
refers to them by name, so the bundle moves as one; the head image is named in the keys themes
read: ``images`` (Hugo's own Open Graph and Twitter templates), ``featured_image`` (Ananke),
``cover.image`` (PaperMod), as a name in the bundle when copied. ``{{`` is escaped so that no
shortcode runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from archiver.export.exporter import Exporter, ImagePlan, local_or_remote
from archiver.export.frontmatter import (
    block,
    parse_iso,
    plain_or_quoted,
    single_quoted,
    source_label,
)
from archiver.export.paths import slugify

CONTENT_FILE = "index.html"


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HugoExporter(Exporter):
    name = "hugo"
    POSTS_ROOT = "content"
    # A post imported from Markdown goes by the naming rule: the export is HTML, which a
    # ``.md`` file cannot carry through Hugo's default configuration.
    ROUND_TRIP_SUFFIXES = frozenset((".html", ".htm"))

    def path_for(self, article: Mapping[str, Any]) -> str:
        imported = self.imported_path(article)
        if imported:
            return imported
        slug = slugify(article.get("title") or "") or f"post-{article['id']}"
        bundle = self.paths.allocate("content/posts", slug, "", article["id"])
        return f"{bundle}/{CONTENT_FILE}"

    def image_destination(self, article_path: str, image_path: str) -> tuple[str, str]:
        name = image_path.rsplit("/", 1)[-1]
        return f"{article_path.rsplit('/', 1)[0]}/{name}", name

    def render(self, article: Mapping[str, Any], body: str, images: ImagePlan) -> str:
        published = parse_iso(article.get("published"))
        updated = parse_iso(article.get("updated"))
        entries: list[tuple[str, Any]] = [
            ("title", single_quoted(article.get("title") or article.get("title_raw") or "")),
        ]
        if published:
            entries.append(("date", _rfc3339(published)))
        if updated:
            entries.append(("lastmod", _rfc3339(updated)))
        entries.append(("draft", "false"))
        if source_label(article):
            entries.append(("author", single_quoted(source_label(article))))
        entries += [
            ("authors", [plain_or_quoted(a) for a in article.get("authors") or []]),
            ("categories", [plain_or_quoted(c) for c in article.get("categories") or []]),
            ("tags", [plain_or_quoted(t) for t in article.get("tags") or []]),
        ]
        if article.get("summary"):
            entries.append(("description", single_quoted(" ".join(article["summary"].split()))))
        head = local_or_remote(article.get("headimg"), images)
        if head:
            entries += [("images", [single_quoted(head)]), ("featured_image", single_quoted(head))]
        entries.append(("source_url", single_quoted(article.get("url") or "")))
        front = block(entries)
        if head:
            front += f"cover:\n  image: {single_quoted(head)}\n"
        return f"---\n{front}---\n{body.replace('{{', '&#123;&#123;')}\n"

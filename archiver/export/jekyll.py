"""Jekyll: ``_posts/YYYY-MM-DD-<slug>.html`` with YAML front-matter and the HTML body.

The post is an HTML file, which Jekyll takes as it is: in a ``.md`` file kramdown reads the
HTML as Markdown, and a body that mixes inline and block elements at its top level (an
``<img>`` between paragraphs) came out as escaped text.

The date is written with its offset (``2021-04-02 06:27:15 +0000``), which Jekyll reads as
that instant; the file name's date is the UTC day. ``{``/``}`` are escaped for Liquid. Copied
images go to ``assets/images/`` and are referred to from the site's root.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from archiver.export.exporter import Exporter, ImagePlan, local_or_remote
from archiver.export.frontmatter import (
    block,
    escape_braces,
    parse_iso,
    plain_or_quoted,
    single_quoted,
    source_label,
)
from archiver.export.paths import slugify


class JekyllExporter(Exporter):
    name = "jekyll"
    POSTS_ROOT = "_posts"
    # A post imported from Markdown goes by the naming rule: its body is exported as HTML.
    ROUND_TRIP_SUFFIXES = frozenset((".html", ".htm"))

    def path_for(self, article: Mapping[str, Any]) -> str:
        imported = self.imported_path(article)
        if imported:
            return imported
        when = parse_iso(article.get("published")) or parse_iso(article.get("first_seen"))
        day = when.astimezone(UTC).strftime("%Y-%m-%d") if when else "1970-01-01"
        slug = slugify(article.get("title") or "") or f"post-{article['id']}"
        return self.paths.allocate("_posts", f"{day}-{slug}", ".html", article["id"])

    def image_destination(self, article_path: str, image_path: str) -> tuple[str, str]:
        name = image_path.removeprefix("images/")
        return f"assets/images/{name}", f"/assets/images/{name}"

    def render(self, article: Mapping[str, Any], body: str, images: ImagePlan) -> str:
        published = parse_iso(article.get("published"))
        entries: list[tuple[str, Any]] = [
            ("layout", "post"),
            ("title", single_quoted(article.get("title") or article.get("title_raw") or "")),
        ]
        if published:
            entries.append(("date", published.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000")))
        entries += [
            ("author", plain_or_quoted(source_label(article))),
            ("categories", [plain_or_quoted(c) for c in article.get("categories") or []]),
            ("tags", [plain_or_quoted(t) for t in article.get("tags") or []]),
        ]
        if article.get("headimg"):
            entries.append(("image", single_quoted(local_or_remote(article["headimg"], images))))
        entries.append(("source_url", single_quoted(article.get("url") or "")))
        return f"---\n{block(entries)}---\n\n{escape_braces(body)}\n"

"""Hugo page bundles: ``content/posts/<slug>/index.md`` with the article's images inside.

Copied images sit beside ``index.md`` (``<sha256>.<ext>``) and the body refers to them by
name, so the bundle moves as one. The body is HTML: set ``markup.goldmark.renderer.unsafe =
true`` in the site's configuration, or Hugo leaves raw HTML out. ``{{`` is escaped so that no
shortcode runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from archiver.export.exporter import Exporter, ImagePlan, local_or_remote
from archiver.export.frontmatter import block, parse_iso, plain_or_quoted, single_quoted
from archiver.export.paths import slugify


class HugoExporter(Exporter):
    name = "hugo"

    def path_for(self, article: Mapping[str, Any]) -> str:
        slug = slugify(article.get("title") or "") or f"post-{article['id']}"
        bundle = self.paths.allocate("content/posts", slug, "", article["id"])
        return f"{bundle}/index.md"

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
            entries.append(("date", published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
        if updated:
            entries.append(("lastmod", updated.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
        entries += [
            ("draft", "false"),
            ("authors", [plain_or_quoted(a) for a in article.get("authors") or []]),
            ("categories", [plain_or_quoted(c) for c in article.get("categories") or []]),
            ("tags", [plain_or_quoted(t) for t in article.get("tags") or []]),
        ]
        if article.get("headimg"):
            entries.append(("images", [single_quoted(local_or_remote(article["headimg"], images))]))
        entries.append(("source_url", single_quoted(article.get("url") or "")))
        return f"---\n{block(entries)}---\n\n{body.replace('{{', '&#123;&#123;')}\n"

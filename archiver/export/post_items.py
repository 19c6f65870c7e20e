"""A post as an archived article: its front-matter read into an ``ArticleItem``, raw beside it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archiver.export.frontmatter import unescape_braces
from archiver.export.hexo import BODY_END, BODY_START
from archiver.export.markdown import markdown_to_html
from archiver.export.posts import Post
from archiver.items import ArticleItem

if TYPE_CHECKING:
    from archiver.normalize.dates import ParsedDate


def _text_values(value: Any) -> list[str]:
    """A front-matter value as a flat list of strings (Hexo allows nested category lists)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_text_values(item))
        return out
    text = str(value).strip()
    return [text] if text else []


def _first(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        values = _text_values(data.get(key))
        if values:
            return values[0]
    return None


def post_body_html(post: Post) -> tuple[str, str | None]:
    """(the body as HTML, its Markdown source or None). The seed's ``<div>`` wrapper and
    its ``{``/``}`` escapes are taken off (the Hexo export puts them back)."""
    body = post.body
    if body.startswith(BODY_START) and body.endswith(BODY_END):
        return unescape_braces(body[len(BODY_START) : -len(BODY_END)]), None
    stripped = body.strip()
    if post.path.suffix.lower() in (".html", ".htm") or stripped.startswith("<"):
        return unescape_braces(stripped), None
    return markdown_to_html(stripped), stripped


def post_to_item(
    post: Post,
    *,
    timezone: str | None = None,
) -> tuple[ArticleItem, list[str], str | None, dict[str, Any]]:
    """The article a post holds, its source's categories, the source's label (an author that
    only names the source), and what to keep in ``articles.raw["import"]``."""
    from archiver.normalize.people import parse_authors
    from archiver.normalize.text import (
        clean_terms,
        clean_title,
        detect_language,
        html_to_text,
        make_summary,
    )

    data = post.front_matter
    categories = _text_values(data.get("categories") or data.get("category"))
    tags = _text_values(data.get("tags") or data.get("tag"))
    content_html, markdown = post_body_html(post)
    text = html_to_text(content_html)
    # The opening is enough to tell the language, and costs a fraction of the whole text.
    language = detect_language(_first(data, "lang", "language"), text[:2000])
    title_raw = _first(data, "title") or post.path.stem
    authors_raw = _text_values(data.get("author") or data.get("authors"))
    folded = {c.casefold() for c in categories}
    label = None
    if len(authors_raw) == 1 and authors_raw[0].casefold() in folded:
        label = authors_raw[0]  # the seed's `author: 36kr`: the source's name, not a person
    published_raw = _first(data, "date", "published", "pubDate")
    updated_raw = _first(data, "updated", "lastmod", "modified")
    published = _read_date(published_raw, timezone, language)
    updated = _read_date(updated_raw, timezone, language)
    link = _first(data, "link", "source_url", "original_url", "canonical_url", "url", "permalink")
    absolute = link if link and urlsplit(link).scheme in ("http", "https") else None
    url = absolute or f"import:{post.site_format}/{post.relative}"
    headimg = _first(data, "headimg", "cover", "image", "featured_image", "thumbnail")
    thumbnail = _first(data, "thumbnail")
    item = ArticleItem(
        url=url,
        source_url=source_url_for(post.site_format, categories, post),
        source_kind="import",
        title_raw=title_raw,
        authors_raw=authors_raw,
        published_raw=published_raw,
        updated_raw=updated_raw,
        content_html=content_html,
        categories_raw=categories,
        language_raw=_first(data, "lang", "language"),
        source_categories=categories,
        source_timezone=timezone,
        key=post.relative,
        title=clean_title(title_raw),
        authors=[] if label else parse_authors(authors_raw),
        published=published.value,
        updated=updated.value,
        timezone_rule=published.rule,
        date_flags=list(published.flags),
        categories=clean_terms(categories),
        tags=clean_terms(tags),
        canonical_url=absolute,
        summary=make_summary(None, text),
        content_text=text,
        headimg=headimg or None,
        thumbnail=thumbnail or None,
        language=language,
    )
    raw = {
        "format": post.site_format,
        "path": post.relative,
        "front_matter": {k: _plain(v) for k, v in data.items()},
    }
    if markdown is not None:
        raw["markdown"] = markdown
    return item, categories, label, raw


def _read_date(raw: str | None, timezone: str | None, language: str | None) -> ParsedDate:
    """The date as :func:`archiver.normalize.dates.parse_date` reads it; the two forms posts
    mostly carry (RFC 1123 with its zone, as in the seed, and ISO 8601 with an offset) are
    read directly, which is what makes a bulk import fast."""
    from email.utils import parsedate_to_datetime

    from archiver.normalize.dates import ParsedDate, parse_date

    if raw:
        text = raw.strip()
        try:
            if text[:3].isalpha() and text[3:5] == ", " and text.endswith(("GMT", "+0000")):
                value = parsedate_to_datetime(text)
            elif len(text) >= 19 and text[10] == "T" and (text[-6] in "+-" or text[-1] == "Z"):
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                value = None
        except (TypeError, ValueError, IndexError):
            value = None
        if value is not None and value.tzinfo is not None and 1990 <= value.year <= 2100:
            return ParsedDate(value.astimezone(UTC), raw, "explicit")
    return parse_date(raw, timezone=timezone, language=language)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def source_url_for(site_format: str, categories: Sequence[str], post: Post) -> str:
    """One source per category path (or per site directory when a post has none)."""
    if categories:
        return f"import:{site_format}/" + "/".join(categories)
    site = post.site_root.name if post.site_root else post.path.parent.name
    return f"import:{site_format}/{site or 'posts'}"

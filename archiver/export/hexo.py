"""Hexo, exactly as the seed's posts: ``source/_posts/<category>/<source>/<sub-feed>/<title>.md``.

The directories are the source's categories (``--category 新媒体 --category 36kr --category
资讯``); the front-matter keys come in the seed's order (``title``, ``categories``,
``headimg``, ``author``, ``comments``, ``date``, ``thumbnail``), with ``tags`` after them when
the article has any; the body is the article's HTML inside the seed's ``<div>`` wrapper, with
``{``/``}`` escaped for Nunjucks. Copied images go to ``source/images/`` and are referred to
from the site's root (``/images/...``), which holds whatever the permalink layout is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from archiver.errors import ConfigurationError
from archiver.export.exporter import Exporter, ImagePlan, local_or_remote
from archiver.export.frontmatter import (
    block,
    escape_braces,
    parse_iso,
    plain_or_quoted,
    rfc1123,
    seed_quoted,
    single_quoted,
    source_label,
)
from archiver.export.paths import hexo_title_name, safe_name

POSTS_DIR = "source/_posts"
BODY_START = "\n<div>   \n"
BODY_END = "  \n</div>\n            "
"""The seed generator's wrapper around the body, byte for byte."""


def hexo_categories(article: Mapping[str, Any]) -> list[str]:
    """The source's categories, else the source's name alone (the article's own categories
    would nest as deep as a feed has tags: Hexo reads a category list as a hierarchy).
    Without the source's details (``show``), the article's categories."""
    source = article.get("source_info")
    if source is None:
        return list(article.get("categories") or [article["source"]])
    return list(source.get("categories") or [source.get("name") or article["source"]])


def hexo_date(article: Mapping[str, Any], site_timezone: str | None = None) -> str:
    """The instant in the seed's RFC 1123 form; without one, the date as published
    (``Invalid Date`` stays, and Hexo falls back to the file's time, as it did).

    For a site whose ``_config.yml`` sets ``timezone``, the instant as that zone's wall-clock
    time (``2021-04-02 14:27:15``, the form ``hexo new`` writes): Hexo then reads every
    front-matter date as the site's wall-clock time, whatever zone it was written in (the
    RFC 1123 form would land hours off), and turns it back into the instant."""
    published = parse_iso(article.get("published"))
    if published is not None:
        if site_timezone:
            from zoneinfo import ZoneInfo

            return published.astimezone(ZoneInfo(site_timezone)).strftime("%Y-%m-%d %H:%M:%S")
        return rfc1123(published)
    raw = " ".join((article.get("published_raw") or "").split())
    return plain_or_quoted(raw) if raw else ""


def front_matter(
    article: Mapping[str, Any], plan: ImagePlan | None = None, site_timezone: str | None = None
) -> str:
    """The seed's front-matter block (without the ``---`` lines); *site_timezone* is the
    target site's ``timezone`` setting (see :func:`hexo_date`)."""
    plan = plan or ImagePlan()
    title = article.get("title") or article.get("title_raw") or ""
    entries: list[tuple[str, Any]] = [
        ("title", seed_quoted(title)),
        ("categories", [plain_or_quoted(c) for c in hexo_categories(article)]),
        ("headimg", single_quoted(local_or_remote(article.get("headimg"), plan))),
        ("author", plain_or_quoted(source_label(article))),
        ("comments", "false"),
        ("date", hexo_date(article, site_timezone)),
        ("thumbnail", single_quoted(local_or_remote(article.get("thumbnail"), plan))),
    ]
    if article.get("tags"):
        entries.append(("tags", [plain_or_quoted(t) for t in article["tags"]]))
    return block(entries)


def render_post(
    article: Mapping[str, Any],
    body: str,
    plan: ImagePlan | None = None,
    site_timezone: str | None = None,
) -> str:
    """A whole Hexo post: what ``archiver show --format markdown`` can print too."""
    front = front_matter(article, plan, site_timezone)
    return f"\n---\n{front}---\n{BODY_START}{escape_braces(body)}{BODY_END}"


def site_timezone_of(directory: Path) -> str | None:
    """The ``timezone`` a Hexo site's ``_config.yml`` in *directory* sets, or None (no file,
    no setting, or ``''``: Hexo then reads dates as written, in the build machine's zone
    when they have none). Raises ConfigurationError when the file cannot be read or names a
    zone that does not exist."""
    config = directory / "_config.yml"
    if not config.is_file():
        return None
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        data = yaml.safe_load(config.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"cannot read {config}: {first}") from exc
    zone = data.get("timezone") if isinstance(data, dict) else None
    if zone is None or (isinstance(zone, str) and not zone.strip()):
        return None
    return check_timezone(str(zone).strip(), f"{config}: timezone")


def check_timezone(name: str, what: str) -> str:
    """*name* when it is an IANA zone (as Hexo's moment-timezone knows them); else
    ConfigurationError naming *what* it was."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"{what} {name!r} is not a time zone") from exc
    return name


def show_markdown(article: Mapping[str, Any]) -> str:
    """``archiver show ID --format markdown``: the article (``archive.articles.get``'s dict) as
    the Hexo post the export writes, images left remote."""
    return render_post(article, article.get("content_html") or article.get("summary_html") or "")


class HexoExporter(Exporter):
    name = "hexo"
    POSTS_ROOT = POSTS_DIR

    def __init__(self, *, portable_names: bool = True, site_timezone: str | None = None) -> None:
        super().__init__(portable_names=portable_names)
        self.site_timezone = site_timezone
        """The target site's ``timezone`` (its ``_config.yml``), or None: today's form."""

    def path_for(self, article: Mapping[str, Any]) -> str:
        imported = self.imported_path(article)
        if imported:
            return imported
        directory = "/".join(
            safe_name(c, portable=self.portable_names) for c in hexo_categories(article)
        )
        title = article.get("title") or article.get("title_raw") or f"post-{article['id']}"
        return self.paths.allocate(
            f"{POSTS_DIR}/{directory}", hexo_title_name(title), ".md", article["id"]
        )

    def image_destination(self, article_path: str, image_path: str) -> tuple[str, str]:
        name = image_path.removeprefix("images/")
        return f"source/images/{name}", f"/images/{name}"

    def render(self, article: Mapping[str, Any], body: str, images: ImagePlan) -> str:
        return render_post(article, body, images, self.site_timezone)

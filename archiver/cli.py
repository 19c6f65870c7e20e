"""The ``archiver`` command: crawl feeds into the archive, and query what it holds."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from archiver import __version__
from archiver.errors import ArchiverError, ConfigurationError
from archiver.output import FORMATS, render, to_json

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Context:
    """What every command shares: where the archive and its media are."""

    def __init__(self, database_url: str | None, media_dir: str | None, verbose: int) -> None:
        self.database_url = database_url
        self.media_dir = media_dir
        self.verbose = verbose

    def archive(self) -> Any:
        from archiver.storage.repository import Archive

        return Archive(self.database_url)


pass_context = click.make_pass_decorator(Context)


def format_option(choices: tuple[str, ...] = FORMATS, default: str = "table") -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )


def library_errors(function: F) -> F:
    """Turn the library's errors into one line on stderr and a non-zero exit."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ConfigurationError as exc:
            raise click.UsageError(str(exc)) from exc
        except ArchiverError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def parse_when(value: str | None, option: str) -> datetime | None:
    """``--since``/``--until``: an ISO 8601 date or time; naive values are UTC."""
    if not value:
        return None
    from dateutil.parser import isoparse

    try:
        when = isoparse(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date (use 2021-04-02 or 2021-04-02T14:27+08:00)",
            param_hint=option,
        ) from exc
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--db",
    "database_url",
    envvar="ARCHIVER_DATABASE_URL",
    metavar="URL",
    help="SQLAlchemy URL or SQLite path of the archive. [default: ./archive.db; "
    "env ARCHIVER_DATABASE_URL]",
)
@click.option(
    "--media",
    "media_dir",
    envvar="ARCHIVER_MEDIA_DIR",
    metavar="DIR",
    help="Where images are stored. [default: ./media; env ARCHIVER_MEDIA_DIR]",
)
@click.option("-v", "--verbose", count=True, help="Show the crawl's log (-vv: debug).")
@click.version_option(__version__, prog_name="archiver")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, media_dir: str | None, verbose: int) -> None:
    """Archive syndicated articles (RSS, Atom, JSON Feed), with their images.

    \b
    archiver crawl https://36kr.com/feed --category 新媒体
    archiver search 谷歌 --since 2021-01-01
    archiver show 42 --format json
    """
    ctx.obj = Context(database_url, media_dir, verbose)


@cli.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="C",
    help="Category given to every article, first (repeatable).",
)
@click.option("--timezone", metavar="TZ", help="IANA zone for the sources' naive dates.")
@click.option("--no-images", is_flag=True, help="Do not download the articles' images.")
@pass_context
@library_errors
def crawl(
    ctx: Context,
    urls: tuple[str, ...],
    categories: tuple[str, ...],
    timezone: str | None,
    no_images: bool,
) -> None:
    """Crawl feeds now and archive every entry.

    Exits 0 when every source was crawled, 1 when any source failed entirely.

    \b
    archiver crawl https://example.com/feed.xml file:///srv/feeds/local.xml
    archiver crawl https://rsshub.app/36kr/news/latest --category 新媒体 --category 36kr
    """
    from archiver.crawl import CrawlOptions, run_crawl, summary_line

    options = CrawlOptions(
        urls=[_as_url(u) for u in urls],
        categories=categories,
        timezone=timezone,
        images=not no_images,
        database_url=ctx.database_url,
        media_dir=ctx.media_dir,
        log_level={0: "WARNING", 1: "INFO"}.get(ctx.verbose, "DEBUG"),
        progress=sys.stderr.isatty(),
    )
    result = run_crawl(options)
    click.echo(summary_line(result))
    if result.failed_sources:
        sys.exit(1)


def _as_url(value: str) -> str:
    """A path to a local feed file is taken as a file:// URL."""
    from pathlib import Path

    if "://" not in value and Path(value).exists():
        return Path(value).resolve().as_uri()
    return value


SEARCH_COLUMNS = ("id", "published", "source", "title")


@cli.command()
@click.argument("query", required=False)
@click.option("--source", help="Only this source (name or URL).")
@click.option("--category", help="Only articles in this category.")
@click.option("--author", help="Only articles by this author (substring).")
@click.option("--since", help="Published at or after (ISO 8601 date or time, UTC if naive).")
@click.option("--until", help="Published before (ISO 8601 date or time, UTC if naive).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option()
@pass_context
@library_errors
def search(
    ctx: Context,
    query: str | None,
    source: str | None,
    category: str | None,
    author: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
) -> None:
    """List archived articles, newest first, matching QUERY and the filters.

    \b
    archiver search 谷歌
    archiver search --category 36kr --since 2021-04-01 --format json
    """
    from archiver.storage.repository import SearchFilters

    filters = SearchFilters(
        query=query,
        source=source,
        category=category,
        author=author,
        since=parse_when(since, "--since"),
        until=parse_when(until, "--until"),
        limit=limit,
    )
    archive = ctx.archive()
    try:
        rows = archive.search(filters)
    finally:
        archive.close()
    click.echo(render(rows, SEARCH_COLUMNS, fmt))


@cli.command()
@click.argument("ident", metavar="ID|URL")
@format_option(("json", "markdown", "html"), default="json")
@pass_context
@library_errors
def show(ctx: Context, ident: str, fmt: str) -> None:
    """Show one article: everything known (json), as a post (markdown), or its body (html).

    \b
    archiver show 42
    archiver show https://example.com/post/1 --format html > post.html
    """
    archive = ctx.archive()
    try:
        article = archive.article(ident)
    finally:
        archive.close()
    if fmt == "json":
        click.echo(to_json(article))
    elif fmt == "html":
        click.echo(article["content_html"] or article["summary_html"] or "")
    else:
        click.echo(markdown_post(article))


def markdown_post(article: dict[str, Any]) -> str:
    """Front-matter (YAML) and the published body: the seed's post format."""

    def quote(value: Any) -> str:
        return "'" + str(value or "").replace("'", "''") + "'"

    lines = ["---", f"title: {quote(article['title'])}", "categories:"]
    lines += [f" - {quote(c)}" for c in article["categories"]]
    lines += [
        f"headimg: {quote(article['headimg'])}",
        f"author: {quote(article['author'])}",
        "comments: false",
        f"date: {article['published'] or ''}",
        f"thumbnail: {quote(article['thumbnail'])}",
        "---",
        "",
        article["content_html"] or article["summary_html"] or "",
    ]
    return "\n".join(lines)


@cli.command()
@format_option()
@pass_context
@library_errors
def stats(ctx: Context, fmt: str) -> None:
    """Counts over the archive: articles, sources, images and their bytes.

    \b
    archiver stats --format json
    """
    archive = ctx.archive()
    try:
        counts = archive.stats()
    finally:
        archive.close()
    if fmt == "json":
        click.echo(to_json(counts))
    else:
        rows = [{"what": key, "count": value} for key, value in counts.items()]
        click.echo(render(rows, ("what", "count"), fmt))


RUN_COLUMNS = ("id", "started_at", "command", "status", "new", "updated", "unchanged", "failed")


@cli.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option()
@pass_context
@library_errors
def runs(ctx: Context, limit: int, fmt: str) -> None:
    """Crawl history, newest first, with per-source outcomes in JSON.

    \b
    archiver runs --format json
    """
    from dataclasses import asdict

    archive = ctx.archive()
    try:
        records = archive.runs(limit)
    finally:
        archive.close()
    rows = []
    for record in records:
        row = asdict(record)
        for key in ("started_at", "finished_at"):
            row[key] = (
                row[key].astimezone(UTC).isoformat().replace("+00:00", "Z") if row[key] else None
            )
        rows.append(row)
    click.echo(render(rows, RUN_COLUMNS, fmt))


@cli.group()
def db() -> None:
    """Manage the archive's database."""


@db.command()
@pass_context
@library_errors
def upgrade(ctx: Context) -> None:
    """Create the archive or bring its schema up to date (also done on first use).

    \b
    archiver --db postgresql://localhost/archive db upgrade
    """
    from archiver.storage.db import create_archive_engine, current_revision
    from archiver.storage.db import upgrade as upgrade_schema

    engine = create_archive_engine(ctx.database_url)
    try:
        upgrade_schema(engine)
        click.echo(
            f"{engine.url.render_as_string(hide_password=True)} is at revision "
            f"{current_revision(engine)}"
        )
    finally:
        engine.dispose()


def main() -> None:
    cli(prog_name="archiver")


if __name__ == "__main__":
    main()

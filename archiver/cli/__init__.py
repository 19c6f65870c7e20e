"""The ``archiver`` command: crawl feeds into the archive, and query what it holds."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from archiver import __version__
from archiver.cli.output import FORMATS, render, to_json
from archiver.errors import ArchiverError, ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Context:
    """What every command shares: where the archive and its media are."""

    def __init__(self, database_url: str | None, media_dir: str | None, verbose: int) -> None:
        self.database_url = database_url
        self.media_dir = media_dir
        self.verbose = verbose

    def archive(self) -> Any:
        from archiver.storage import Archive

        return Archive(self.database_url)

    def crawl_options(self, *, images: bool) -> Any:
        """A crawl's options from the global flags: archive, media, verbosity, terminal."""
        from archiver.crawling.runner import CrawlOptions

        return CrawlOptions(
            urls=[],
            images=images,
            database_url=self.database_url,
            media_dir=self.media_dir,
            log_level={0: "WARNING", 1: "INFO"}.get(self.verbose, "DEBUG"),
            progress=sys.stderr.isatty(),
        )


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


def filter_options(function: F) -> F:
    """``--source``, ``--category``, ``--author``, ``--since`` and ``--until``, handed to the
    command as one ``filters`` argument (a ``SearchFilters``; the command sets its query)."""

    @functools.wraps(function)
    def wrapper(
        *args: Any,
        source: str | None,
        category: str | None,
        author: str | None,
        since: str | None,
        until: str | None,
        **kwargs: Any,
    ) -> Any:
        from archiver.storage import SearchFilters

        kwargs["filters"] = SearchFilters(
            source=source,
            category=category,
            author=author,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
        )
        return function(*args, **kwargs)

    options = [
        click.option("--source", help="Only this source (name or URL)."),
        click.option("--category", help="Only articles in this category."),
        click.option("--author", help="Only articles by this author (substring)."),
        click.option(
            "--since", help="Published at or after (ISO 8601 date or time, UTC if naive)."
        ),
        click.option("--until", help="Published before (ISO 8601 date or time, UTC if naive)."),
    ]
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


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
    """Archive syndicated articles (RSS, Atom, JSON Feed, RSSHub routes, sitemaps, article
    pages), with their images.

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

    A URL may also be a sitemap, an article page, a local file or an RSSHub route
    (rsshub:/..., fetched from ARCHIVER_RSSHUB_URL). Exits 0 when every source was crawled,
    1 when any source failed entirely.

    \b
    archiver crawl https://example.com/feed.xml file:///srv/feeds/local.xml
    archiver crawl rsshub:/36kr/news/latest --category 新媒体 --category 36kr
    """
    from archiver.crawling.runner import run_crawl, summary_line

    options = ctx.crawl_options(images=not no_images)
    options.urls = [_as_url(u) for u in urls]
    options.categories, options.timezone = categories, timezone
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
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option()
@pass_context
@library_errors
def search(ctx: Context, query: str | None, filters: Any, limit: int, fmt: str) -> None:
    """List archived articles matching QUERY and the filters: the most relevant first, then
    the newest (without QUERY, the newest first).

    QUERY finds substrings of titles and texts in any script (谷歌, keras); quote it to use
    the operators: "a phrase", -word, title:, author:, source:, category:, since:, until:.

    \b
    archiver search 谷歌
    archiver search 'keras -tensorflow since:2021-01-01 category:资讯'
    archiver search --category 36kr --since 2021-04-01 --format json
    """
    filters.query, filters.limit = query, limit
    archive = ctx.archive()
    try:
        rows = archive.articles.search(filters)
    finally:
        archive.close()
    if fmt == "table" and query and rows:
        from archiver.storage.search import search_table

        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(search_table(render(rows, SEARCH_COLUMNS, fmt), rows, query, color=color))
        return
    click.echo(render(rows, SEARCH_COLUMNS, fmt))


@cli.command()
@click.argument("ident", metavar="ID|URL")
@format_option(("json", "markdown", "html"), default="json")
@pass_context
@library_errors
def show(ctx: Context, ident: str, fmt: str) -> None:
    """Show one article: everything known (json), as a post (markdown), or its body with
    its archived images shown from disk (html).

    \b
    archiver show 42
    archiver show https://example.com/post/1 --format html > post.html
    """
    archive = ctx.archive()
    try:
        article = archive.articles.get(ident)
    finally:
        archive.close()
    if fmt == "json":
        click.echo(to_json(article))
    elif fmt == "html":
        click.echo(local_body(article, ctx.media_dir))
    else:
        from archiver.export.hexo import show_markdown

        click.echo(show_markdown(article), nl=False)


def local_body(article: dict[str, Any], media_dir: str | None) -> str:
    """The published body with every archived image pointing at its file on this machine."""
    from pathlib import Path

    from archiver.media.rewrite import local_image_map, rewrite_images

    body = article["content_html"] or article["summary_html"] or ""
    directory = Path(media_dir or os.environ.get("ARCHIVER_MEDIA_DIR") or "media")
    prefix = directory.resolve().as_uri() + "/"
    mapping = local_image_map(article["images"], prefix)
    return rewrite_images(body, mapping, base_url=article.get("base_url") or article["url"])


@cli.command()
@format_option()
@pass_context
@library_errors
def stats(ctx: Context, fmt: str) -> None:
    """Counts over the archive: articles, sources, images and their bytes, then per source
    and per month of publication.

    \b
    archiver stats --format json
    """
    archive = ctx.archive()
    try:
        counts = {**archive.stats.totals(), **archive.stats.breakdown()}
    finally:
        archive.close()
    if fmt == "json":
        click.echo(to_json(counts))
        return
    by_source, by_month = counts.pop("by_source"), counts.pop("by_month")
    rows = [{"what": key, "count": value} for key, value in counts.items()]
    click.echo(render(rows, ("what", "count"), fmt))
    if fmt == "table":
        click.echo()
    sources = [{"source": name, **values} for name, values in by_source.items()]
    columns = ("source", "articles", "oldest", "newest", "images", "image_bytes")
    click.echo(render(sources, columns, fmt))
    if fmt == "table":
        click.echo()
    months = [{"month": month, "articles": count} for month, count in by_month.items()]
    click.echo(render(months, ("month", "articles"), fmt))


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
        records = archive.runs.recent(limit)
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
def sources() -> None:
    """The sources crawled on a schedule by `archiver run`."""


SOURCE_COLUMNS = ("name", "kind", "every", "next_due_at", "last_status", "url")


@sources.command("add")
@click.argument("url")
@click.option("--name", help="A short name for the source. [default: its host]")
@click.option("--every", "every", default="1h", show_default=True, help="Interval: 30m, 1h, 1d.")
@click.option("--category", "categories", multiple=True, metavar="C", help="Repeatable.")
@click.option("--timezone", metavar="TZ", help="IANA zone for the source's naive dates.")
@click.option("--no-check", is_flag=True, help="Add without fetching the URL first.")
@pass_context
@library_errors
def sources_add(
    ctx: Context,
    url: str,
    name: str | None,
    every: str,
    categories: tuple[str, ...],
    timezone: str | None,
    no_check: bool,
) -> None:
    """Add a source to the schedule (or change one); the URL is fetched to check it.

    \b
    archiver sources add https://rsshub.app/36kr/news/latest --name 36kr --every 30m \\
        --category 新媒体 --category 36kr --category 资讯 --timezone Asia/Shanghai
    """
    from archiver.crawling.policy import format_interval, parse_interval
    from archiver.crawling.runner import check_source_url, check_timezone
    from archiver.crawling.scheduled import probe_source

    try:
        url = check_source_url(_as_url(url))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    interval = parse_interval(every)
    check_timezone(timezone)
    probe = None if no_check else probe_source(url)
    archive = ctx.archive()
    try:
        record, created = archive.sources.schedule(
            url,
            kind=probe.kind if probe else "unknown",
            interval=interval,
            name=name,
            categories=categories,
            timezone=timezone,
        )
    finally:
        archive.close()
    what = describe_probe(probe) if probe else "not checked"
    title = f" {probe.title!r}" if probe and probe.title else ""
    verb = "Added" if created else "Updated"
    click.echo(f"{verb} {record.name}:{title} ({what}), every {format_interval(interval)}")


def describe_probe(probe: Any) -> str:
    """``rss feed, 5 entries``, ``sitemap, 6 pages``, ``article page``."""
    if probe.kind == "page":
        return "article page"
    if probe.kind == "sitemap":
        return f"sitemap, {probe.entries} pages"
    if probe.kind == "rsshub":
        return f"RSSHub route, {probe.entries} entries"
    return f"{probe.kind} feed, {probe.entries} entries"


@sources.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also sources only ever crawled ad hoc.")
@format_option()
@pass_context
@library_errors
def sources_list(ctx: Context, show_all: bool, fmt: str) -> None:
    """List the scheduled sources (with --all, every source the archive knows).

    \b
    archiver sources list --format json
    """
    from archiver.crawling.policy import format_interval

    archive = ctx.archive()
    try:
        records = archive.sources.all(scheduled_only=not show_all)
    finally:
        archive.close()
    rows = []
    for record in records:
        row = record.as_dict()
        row["every"] = format_interval(record.crawl_interval)
        rows.append(row)
    click.echo(render(rows, SOURCE_COLUMNS, fmt))


@sources.command("remove")
@click.argument("name", metavar="NAME|URL")
@pass_context
@library_errors
def sources_remove(ctx: Context, name: str) -> None:
    """Take a source off the schedule. Its articles stay in the archive.

    \b
    archiver sources remove 36kr
    """
    archive = ctx.archive()
    try:
        record, kept = archive.sources.unschedule(name)
    finally:
        archive.close()
    click.echo(f"Removed {record.name} from the schedule; its {kept} articles stay archived")


@sources.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--every", default="1h", show_default=True, help="Interval for the new sources.")
@pass_context
@library_errors
def sources_import(ctx: Context, path: str, every: str) -> None:
    """Schedule every feed of an OPML file; its folders become categories.

    \b
    archiver sources import subscriptions.opml --every 2h
    """
    from archiver.crawling.policy import parse_interval
    from archiver.crawling.runner import check_source_url
    from archiver.readers.opml import parse_opml

    interval = parse_interval(every)
    with click.open_file(path, "rb") as handle:
        subscriptions = parse_opml(handle.read())
    archive = ctx.archive()
    added = updated = invalid = 0
    try:
        for sub in subscriptions:
            try:
                url = check_source_url(sub.url)
            except ValueError as exc:
                click.echo(f"Skipped: {exc}", err=True)
                invalid += 1
                continue
            _, created = archive.sources.schedule(
                url, kind="unknown", interval=interval, categories=sub.categories
            )
            added, updated = added + created, updated + (not created)
    finally:
        archive.close()
    click.echo(f"{added} sources added, {updated} updated, {invalid} skipped")


@sources.command("export")
@click.option("--all", "show_all", is_flag=True, help="Also sources only ever crawled ad hoc.")
@pass_context
@library_errors
def sources_export(ctx: Context, show_all: bool) -> None:
    """Write the sources as OPML on stdout.

    \b
    archiver sources export > subscriptions.opml
    """
    from archiver.readers.opml import Subscription, write_opml

    archive = ctx.archive()
    try:
        records = archive.sources.all(scheduled_only=not show_all)
    finally:
        archive.close()
    click.echo(
        write_opml([Subscription(r.url, r.title or r.name, tuple(r.categories)) for r in records]),
        nl=False,
    )


@cli.command()
@click.option("--due", "due", is_flag=True, help="The sources whose next crawl is due (default).")
@click.option("--all", "every", is_flag=True, help="Every scheduled source, due or not.")
@click.option("--source", "names", multiple=True, metavar="NAME", help="This source (repeatable).")
@click.option("--forever", is_flag=True, help="Keep running due sources until SIGTERM.")
@click.option("--no-images", is_flag=True, help="Do not download the articles' images.")
@pass_context
@library_errors
def run(
    ctx: Context, due: bool, every: bool, names: tuple[str, ...], forever: bool, no_images: bool
) -> None:
    """Crawl scheduled sources: safe to call from cron every minute.

    A lease in the database keeps two runs from crawling the same source at once; feeds are
    fetched conditionally (ETag, Last-Modified), so an unchanged feed costs one 304.
    Exits 1 when any source failed entirely.

    \b
    * * * * *  cd /srv/archive && archiver run --due
    archiver run --forever          # for systemd or a container
    """
    from archiver.crawling.runner import summary_line
    from archiver.crawling.scheduled import ForeverLoop, run_sources, select_sources

    if sum((due, every, bool(names))) > 1:
        raise click.UsageError("give one of --due, --all and --source")
    archive = ctx.archive()
    try:
        if forever:
            if every or names:
                raise click.UsageError("--forever runs the due sources; drop --all/--source")
            child = [*_global_args(ctx), "run", "--due", *(["--no-images"] if no_images else [])]
            sys.exit(ForeverLoop(archive, child).run())
        chosen = select_sources(archive, due=due, every=every, names=names)
        if not chosen:
            click.echo("Nothing is due.")
            return
        skipped, result = run_sources(archive, chosen, ctx.crawl_options(images=not no_images))
    finally:
        archive.close()
    if skipped:
        click.echo(f"{len(skipped)} sources skipped: another run holds them", err=True)
    if result is None:
        click.echo("Nothing to crawl: every chosen source is being crawled by another run.")
        return
    click.echo(summary_line(result))
    if result.failed_sources:
        sys.exit(1)


@cli.command()
@click.option(
    "--redis",
    "redis_url",
    envvar="ARCHIVER_REDIS_URL",
    metavar="URL",
    help="The Redis the workers share. [env ARCHIVER_REDIS_URL]",
)
@click.option(
    "--until-idle",
    is_flag=True,
    help="Stop once nothing is due and the shared queue has stayed empty (batch jobs).",
)
@click.option(
    "--idle-seconds",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    help="How long the queue must stay empty for --until-idle.",
)
@click.option("--no-images", is_flag=True, help="Do not download the articles' images.")
@pass_context
@library_errors
def worker(
    ctx: Context, redis_url: str | None, until_idle: bool, idle_seconds: float, no_images: bool
) -> None:
    """Crawl scheduled sources with other workers, on any number of machines, through a
    shared Redis queue (needs the redis extra and, for several machines, PostgreSQL).

    Each worker leases due sources as `run` does and queues their feeds; every worker
    fetches from the queue, so one big sitemap's pages spread over all of them. Stops
    cleanly on SIGTERM or SIGINT (exit 0); with --until-idle, exits 1 when any source
    failed entirely, as `run` does.

    \b
    archiver --db postgresql://archiver@db/archive --media /mnt/media \\
        worker --redis redis://queue:6379/0
    """
    from archiver.crawling.runner import summary_line
    from archiver.crawling.workers import run_worker

    result = run_worker(
        ctx.crawl_options(images=not no_images),
        redis_url=redis_url,
        until_idle=until_idle,
        idle_seconds=idle_seconds,
    )
    click.echo(summary_line(result))
    if until_idle and result.failed_sources:
        sys.exit(1)


def _global_args(ctx: Context) -> list[str]:
    args = []
    if ctx.database_url:
        args += ["--db", ctx.database_url]
    if ctx.media_dir:
        args += ["--media", ctx.media_dir]
    return args + ["-v"] * ctx.verbose


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


def _register_archive_commands() -> None:
    # export and import live in their own module, which imports this one's helpers.
    from archiver.cli.transfer import export_command, import_command

    cli.add_command(export_command)
    cli.add_command(import_command)


_register_archive_commands()


def main() -> None:
    cli(prog_name="archiver")


if __name__ == "__main__":
    main()

"""``archiver crawl``, ``run`` and ``worker``: the verbs that crawl, now or on the schedule."""

from __future__ import annotations

import sys

import click

from archiver.cli.options import (
    Context,
    as_url,
    library_errors,
    page_args,
    page_options,
    pass_context,
    settings_args,
    settings_option,
)


@click.command()
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
@page_options
@settings_option
@pass_context
@library_errors
def crawl(
    ctx: Context,
    urls: tuple[str, ...],
    categories: tuple[str, ...],
    timezone: str | None,
    no_images: bool,
    full_text: str | None,
    refresh_pages: bool,
    settings: dict[str, str],
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

    options = ctx.crawl_options(
        images=not no_images, full_text=full_text, refresh_pages=refresh_pages, settings=settings
    )
    options.urls = [as_url(u) for u in urls]
    options.categories, options.timezone = categories, timezone
    result = run_crawl(options)
    click.echo(summary_line(result))
    if result.failed_sources:
        sys.exit(1)


@click.command()
@click.option("--due", "due", is_flag=True, help="The sources whose next crawl is due (default).")
@click.option("--all", "every", is_flag=True, help="Every scheduled source, due or not.")
@click.option("--source", "names", multiple=True, metavar="NAME", help="This source (repeatable).")
@click.option("--forever", is_flag=True, help="Keep running due sources until SIGTERM.")
@click.option("--no-images", is_flag=True, help="Do not download the articles' images.")
@page_options
@settings_option
@pass_context
@library_errors
def run(
    ctx: Context,
    due: bool,
    every: bool,
    names: tuple[str, ...],
    forever: bool,
    no_images: bool,
    full_text: str | None,
    refresh_pages: bool,
    settings: dict[str, str],
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
    with ctx.archive() as archive:
        if forever:
            if every or names:
                raise click.UsageError("--forever runs the due sources; drop --all/--source")
            child = [
                *_global_args(ctx),
                "run",
                "--due",
                *(["--no-images"] if no_images else []),
                *page_args(full_text, refresh_pages),
                *settings_args(settings),
            ]
            sys.exit(ForeverLoop(archive, child).run())
        chosen = select_sources(archive, due=due, every=every, names=names)
        if not chosen:
            click.echo("Nothing is due.")
            return
        options = ctx.crawl_options(
            images=not no_images,
            full_text=full_text,
            refresh_pages=refresh_pages,
            settings=settings,
        )
        skipped, result = run_sources(archive, chosen, options)
    if skipped:
        click.echo(f"{len(skipped)} sources skipped: another run holds them", err=True)
    if result is None:
        click.echo("Nothing to crawl: every chosen source is being crawled by another run.")
        return
    click.echo(summary_line(result))
    if result.failed_sources:
        sys.exit(1)


@click.command()
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
@page_options
@settings_option
@pass_context
@library_errors
def worker(
    ctx: Context,
    redis_url: str | None,
    until_idle: bool,
    idle_seconds: float,
    no_images: bool,
    full_text: str | None,
    refresh_pages: bool,
    settings: dict[str, str],
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
        ctx.crawl_options(
            images=not no_images,
            full_text=full_text,
            refresh_pages=refresh_pages,
            settings=settings,
        ),
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

"""``archiver sources``: the schedule's sources, added, listed, removed, and as OPML."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.options import (
    Context,
    as_url,
    format_option,
    library_errors,
    pass_context,
)
from archiver.cli.output import render
from archiver.errors import ConfigurationError
from archiver.extract.shortfall import FULL_TEXT_MODES


@click.group()
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
@click.option(
    "--full-text",
    type=click.Choice(FULL_TEXT_MODES),
    help="When its entries' pages are fetched for the whole article. [default: the crawl's]",
)
@click.option(
    "--content-selector",
    "content_selectors",
    multiple=True,
    metavar="CSS|XPATH",
    help="Where its pages keep the article, over the extractor (repeatable).",
)
@click.option(
    "--remove-selector",
    "remove_selectors",
    multiple=True,
    metavar="CSS|XPATH",
    help="What to leave out of that content (repeatable).",
)
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
    full_text: str | None,
    content_selectors: tuple[str, ...],
    remove_selectors: tuple[str, ...],
) -> None:
    """Add a source to the schedule (or change one); the URL is fetched to check it.

    \b
    archiver sources add https://rsshub.app/36kr/news/latest --name 36kr --every 30m \\
        --category 新媒体 --category 36kr --category 资讯 --timezone Asia/Shanghai
    """
    from archiver.crawling.policy import format_interval, parse_interval
    from archiver.crawling.runner import check_source_url, check_timezone
    from archiver.crawling.scheduled import probe_source
    from archiver.extract.rules import source_rule

    try:
        url = check_source_url(as_url(url))
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from exc
    interval = parse_interval(every)
    check_timezone(timezone)
    source_rule(url, content_selectors, remove_selectors)  # a bad selector fails here
    probe = None if no_check else probe_source(url)
    with ctx.archive() as archive:
        record, created = archive.sources.schedule(
            url,
            kind=probe.kind if probe else "unknown",
            interval=interval,
            name=name,
            categories=categories,
            timezone=timezone,
            full_text=full_text,
            content_selectors=content_selectors,
            remove_selectors=remove_selectors,
        )
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

    with ctx.archive() as archive:
        records = archive.sources.all(scheduled_only=not show_all)
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
    with ctx.archive() as archive:
        record, kept = archive.sources.unschedule(name)
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
    added = updated = invalid = 0
    with ctx.archive() as archive:
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

    with ctx.archive() as archive:
        records = archive.sources.all(scheduled_only=not show_all)
    click.echo(
        write_opml([Subscription(r.url, r.title or r.name, tuple(r.categories)) for r in records]),
        nl=False,
    )

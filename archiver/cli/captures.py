"""``archiver captures`` and ``archiver reprocess``: the responses kept as WARC records."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.options import (
    Context,
    filter_options,
    format_option,
    library_errors,
    pass_context,
)
from archiver.cli.output import echo_report, render

CAPTURE_COLUMNS = ("id", "fetched_at", "status", "kind", "record_type", "length", "url")


@click.command("captures")
@click.argument("url")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option()
@pass_context
@library_errors
def captures_command(ctx: Context, url: str, limit: int, fmt: str) -> None:
    """List the captures of URL (a feed, a sitemap or a page), newest first: when, what it
    answered, the WARC file and offset of its record.

    \b
    archiver captures https://36kr.com/feed
    archiver captures https://36kr.com/p/1 --format json
    """
    with ctx.archive() as archive:
        rows = [capture.listing() for capture in archive.captures.for_url(url, limit=limit)]
    click.echo(render(rows, CAPTURE_COLUMNS, fmt))


@click.command()
@filter_options
@click.option("--query", "-q", metavar="QUERY", help="Only articles matching this search.")
@click.option(
    "--processes",
    type=click.IntRange(min=-1),
    default=-1,
    show_default=True,
    help="Pages extracted in this many processes (-1: one per core but one; 0: none).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
@library_errors
def reprocess(ctx: Context, filters: Any, query: str | None, processes: int, as_json: bool) -> None:
    """Parse, normalize and extract again, from their captures, the articles the filters
    select, with today's code; nothing is fetched. Changed articles are stored (their
    previous version kept in revisions), unchanged ones left alone.

    \b
    archiver reprocess --source 36kr --since 2021-01-01
    archiver reprocess --json
    """
    import os

    from archiver.captures.location import cli_captures_dir
    from archiver.captures.reprocess import reprocess as run_reprocess
    from archiver.extract.rules import site_rules
    from archiver.normalize.urls import tracking_params

    filters.query, filters.limit = query, None
    if processes < 0:
        processes = max(1, (os.cpu_count() or 2) - 1)
    from archiver import settings as project

    rules = site_rules(project.ARCHIVER_SITE_RULES or None)
    tracking = tracking_params(project.ARCHIVER_TRACKING_PARAMS)
    with ctx.archive() as archive:
        report = run_reprocess(
            archive,
            cli_captures_dir(ctx.media_dir),
            filters,
            rules=rules,
            tracking_params=tracking,
            processes=processes,
        )
    echo_report(
        report,
        as_json,
        f"{report.articles} articles: {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.new} new, {report.missing} without captures, {report.failed} failed "
        f"({report.feeds_read} feed and {report.pages_read} page captures read)",
    )
    if as_json:
        return
    for changed in report.changed:
        click.echo(f"changed: {changed['id']} {changed['url']}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)

"""``archiver export`` and ``archiver import``: the archive out as a static site, posts in."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.options import (
    Context,
    collapse_option,
    filter_options,
    library_errors,
    pass_context,
)
from archiver.cli.output import echo_report


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False), metavar="DIR")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("hexo", "jekyll", "hugo", "jsonl", "warc", "atom", "jsonfeed")),
    required=True,
    help="hexo: the seed's layout; jekyll: _posts/; hugo: page bundles; jsonl: every field; "
    "warc: the pages, feeds and images as one WARC and its CDXJ index, for pywb; "
    "atom, jsonfeed: one feed file (feed.atom, feed.json), full content.",
)
@click.option("--query", "-q", metavar="QUERY", help="Only articles matching this search.")
@filter_options
@click.option(
    "--images",
    type=click.Choice(("remote", "copy")),
    default="remote",
    show_default=True,
    help="copy: archived images into the site, the posts pointing at them.",
)
@click.option(
    "--posix-names",
    is_flag=True,
    help='Replace only "/" in file names, as the seed did; such names may not check out on '
    "Windows. [default: replace what any OS refuses]",
)
@collapse_option
@click.option(
    "--site-timezone",
    metavar="TZ",
    help="Hexo: the site's `timezone` setting (IANA name), so dates land on their instant. "
    "[default: read from DIR/_config.yml; none: dates as the seed wrote them]",
)
@click.option(
    "--as-published",
    is_flag=True,
    help="Write bodies as archived, not sanitized: for one's own imported posts only.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="atom, jsonfeed: where DIR will be served from (the feed's links; needed by "
    "--images copy).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
@library_errors
def export_command(
    ctx: Context,
    directory: str,
    fmt: str,
    query: str | None,
    filters: Any,
    images: str,
    posix_names: bool,
    collapse: bool,
    site_timezone: str | None,
    as_published: bool,
    base_url: str | None,
    as_json: bool,
) -> None:
    """Write the archive (or what the filters select) into DIR as a static site.

    Incremental: a manifest in DIR remembers what was written; exporting again rewrites only
    the files that changed and removes those of articles no longer exported.

    \b
    archiver export site --format hexo --category 36kr --images copy
    archiver export dump --format jsonl --since 2021-01-01
    archiver export warc-out --format warc --source 36kr   # for pywb, ReplayWeb.page
    archiver export site --format hugo --collapse      # one post per story of copies
    archiver export ~/blog --format hexo --site-timezone Asia/Shanghai
    archiver export public --format atom --query 谷歌 --images copy --base-url https://example.org/
    """

    from archiver.export.site import export_site

    if base_url and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{base_url!r} is no http(s) URL", param_hint="--base-url")
    if site_timezone is not None:
        if fmt != "hexo":
            raise click.BadParameter("applies to --format hexo only", param_hint="--site-timezone")
        _check_timezone(site_timezone, "--site-timezone")
    filters.query, filters.limit, filters.collapse = query, None, collapse
    if fmt == "warc":
        _export_warc(ctx, directory, filters, as_json)
        return
    with ctx.archive() as archive:
        report = export_site(
            archive.articles.export(filters),
            directory,
            fmt,
            images="copy" if images == "copy" else "remote",
            media_dir=ctx.media_dir,
            portable_names=not posix_names,
            site_timezone=site_timezone,
            sanitize=not as_published,
            base_url=base_url,
        )
    echo_report(
        report,
        as_json,
        f"{report.articles} articles to {report.directory} ({report.format}): "
        f"{report.written} written, {report.unchanged} unchanged, {report.removed} removed, "
        f"{report.images_copied} images copied"
        + (f", {report.kept_edited} edited files kept" if report.kept_edited else ""),
    )


def _export_warc(ctx: Context, directory: str, filters: Any, as_json: bool) -> None:
    """``--format warc``: one WARC and its CDXJ (``archiver.export.warc``)."""
    import os

    from archiver.captures.location import cli_captures_dir
    from archiver.export.warc import export_warc

    with ctx.archive() as archive:
        report = export_warc(
            archive,
            archive.articles.export(filters),
            directory,
            captures_dir=cli_captures_dir(ctx.media_dir),
            media_dir=ctx.media_dir or os.environ.get("ARCHIVER_MEDIA_DIR") or "media",
        )
    echo_report(
        report,
        as_json,
        f"{report.articles} articles to {report.warc} and {report.cdxj}: {report.pages} pages, "
        f"{report.feeds} feeds, {report.images} images ({report.bytes} bytes)"
        + (f", {report.images_missing} images not archived" if report.images_missing else "")
        + (
            f", {report.articles_without_capture} articles without captures"
            if report.articles_without_capture
            else ""
        ),
    )


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True), metavar="PATH...")
@click.option("--timezone", metavar="TZ", help="IANA zone for dates written without one.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
@library_errors
def import_command(
    ctx: Context, paths: tuple[str, ...], timezone: str | None, as_json: bool
) -> None:
    """Archive existing Hexo, Jekyll or Hugo posts (files or directories of them).

    Each category path becomes a source of kind "import"; images found beside the posts or in
    the site are copied into the media directory. Importing again changes nothing.
    Exits 1 when any file could not be read (the others are imported).

    \b
    archiver import blog/source/_posts
    archiver import _posts/2021-04-02-keras.md --timezone Asia/Shanghai
    """
    import sys

    from archiver.export.importer import import_posts

    if timezone:
        _check_timezone(timezone, "--timezone")
    with ctx.archive() as archive:
        report = import_posts(archive, paths, media_dir=ctx.media_dir, timezone=timezone)
    echo_report(
        report,
        as_json,
        f"{report.files} files: {report.new} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.failed)} failed, "
        f"{report.images_copied} images copied, {report.images_remote} remote",
    )
    if not as_json:
        for path, error in report.failed:
            click.echo(
                f"failed: {error}" if path in error else f"failed: {path}: {error}", err=True
            )
    if report.failed:
        sys.exit(1)


def _check_timezone(name: str, option: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint=option) from exc

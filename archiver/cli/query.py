"""``archiver search``, ``show``, ``stats`` and ``runs``: the verbs that only read the archive."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from archiver.cli.options import (
    Context,
    collapse_option,
    filter_options,
    format_option,
    library_errors,
    pass_context,
)
from archiver.cli.output import render, to_json

SEARCH_COLUMNS = ("id", "published", "source", "copies", "title")


@click.command()
@click.argument("query", required=False)
@filter_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@collapse_option
@format_option()
@pass_context
@library_errors
def search(
    ctx: Context, query: str | None, filters: Any, limit: int, collapse: bool, fmt: str
) -> None:
    """List archived articles matching QUERY and the filters: the most relevant first, then
    the newest (without QUERY, the newest first).

    QUERY finds substrings of titles and texts in any script (谷歌, keras); quote it to use
    the operators: "a phrase", -word, title:, author:, source:, category:, since:, until:.

    \b
    archiver search 谷歌
    archiver search 'keras -tensorflow since:2021-01-01 category:资讯'
    archiver search --category 36kr --since 2021-04-01 --format json
    archiver search keras --collapse
    """
    filters.query, filters.limit, filters.collapse = query, limit, collapse
    with ctx.archive() as archive:
        rows = archive.articles.search(filters)
    if fmt == "table" and query and rows:
        from archiver.storage.search import search_table

        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(search_table(render(rows, SEARCH_COLUMNS, fmt), rows, query, color=color))
        return
    click.echo(render(rows, SEARCH_COLUMNS, fmt))


@click.command()
@click.argument("ident", metavar="ID|URL")
@format_option(("json", "markdown", "html"), default="json")
@click.option(
    "--capture",
    "raw_capture",
    is_flag=True,
    help="Print the raw response the article was read from (its page's latest capture, "
    "else its feed's): status line, headers and payload as received.",
)
@pass_context
@library_errors
def show(ctx: Context, ident: str, fmt: str, raw_capture: bool) -> None:
    """Show one article: everything known (json), as a post (markdown), or its body with
    its archived images shown from disk (html).

    \b
    archiver show 42
    archiver show https://example.com/post/1 --format html > post.html
    archiver show 42 --capture > response.http
    """
    with ctx.archive() as archive:
        article = archive.articles.get(ident)
        if raw_capture:
            from archiver.captures.location import cli_captures_dir
            from archiver.captures.raw import raw_response

            sys.stdout.buffer.write(raw_response(archive, cli_captures_dir(ctx.media_dir), article))
            sys.stdout.buffer.flush()
            return
    if fmt == "json":
        click.echo(to_json(article))  # the HTML as published: JSON is data, not a rendering
    elif fmt == "html":
        click.echo(local_body(article, ctx.media_dir))
    else:
        from archiver.export.hexo import render_post
        from archiver.media.rewrite import rewrite_images
        from archiver.render import sanitize_html

        body = article["content_html"] or article["summary_html"] or ""
        base_url = article.get("base_url") or article["url"]
        body = sanitize_html(rewrite_images(body, {}, base_url=base_url))
        click.echo(render_post(article, body), nl=False)


def local_body(article: dict[str, Any], media_dir: str | None) -> str:
    """The body as a reader may see it (:func:`archiver.render.sanitize_html`), every
    archived image pointing at its file on this machine."""
    from pathlib import Path

    from archiver.media.rewrite import local_image_map, rewrite_images
    from archiver.render import sanitize_html

    body = article["content_html"] or article["summary_html"] or ""
    directory = Path(media_dir or os.environ.get("ARCHIVER_MEDIA_DIR") or "media")
    prefix = directory.resolve().as_uri() + "/"
    mapping = local_image_map(article["images"], prefix)
    base_url = article.get("base_url") or article["url"]
    return sanitize_html(rewrite_images(body, mapping, base_url=base_url))


@click.command()
@format_option()
@pass_context
@library_errors
def stats(ctx: Context, fmt: str) -> None:
    """Counts over the archive: articles, sources, images and their bytes, then per source
    and per month of publication.

    \b
    archiver stats --format json
    """
    with ctx.archive() as archive:
        counts = archive.counts()
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


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@format_option()
@pass_context
@library_errors
def runs(ctx: Context, limit: int, fmt: str) -> None:
    """Crawl history, newest first, with per-source outcomes in JSON.

    \b
    archiver runs --format json
    """
    with ctx.archive() as archive:
        records = archive.runs.recent(limit)
    click.echo(render([record.as_dict() for record in records], RUN_COLUMNS, fmt))

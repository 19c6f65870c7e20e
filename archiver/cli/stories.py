"""``archiver stories``: copies of one text across sources, and a person's word on them."""

from __future__ import annotations

from typing import Any

import click

from archiver.cli.options import Context, format_option, library_errors, pass_context
from archiver.cli.output import echo_report, render, to_json

STORY_COLUMNS = ("id", "origin", "copies", "sources", "title")
COPY_COLUMNS = ("id", "source", "published", "title", "url")


@click.group()
def stories() -> None:
    """Stories: the copies of one text that several sources published.

    Copies are linked as they are archived. Every linking obeys what split and merge said,
    rebuild included.
    """


@stories.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option()
@pass_context
@library_errors
def list_stories(ctx: Context, limit: int, fmt: str) -> None:
    """List the stories, the most recently changed first.

    \b
    archiver stories list --format json
    """
    with ctx.archive() as archive:
        rows = archive.stories.recent(limit)
    click.echo(render(rows, STORY_COLUMNS, fmt))


@stories.command("show")
@click.argument("story_id", type=int, metavar="STORY")
@format_option(("table", "json"), default="table")
@pass_context
@library_errors
def show_story(ctx: Context, story_id: int, fmt: str) -> None:
    """Show a story: its origin and every copy (the origin first).

    \b
    archiver stories show 7 --format json
    """
    with ctx.archive() as archive:
        story = archive.stories.get(story_id)
    _echo_story(story, fmt)


@stories.command()
@click.argument("article_id", type=int, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print what is left of the story as JSON.")
@pass_context
@library_errors
def split(ctx: Context, article_id: int, as_json: bool) -> None:
    """Take article ID out of its story, for good: it is never linked with the story's other
    copies again, rebuild included (merge undoes it).

    \b
    archiver stories split 42
    """
    with ctx.archive() as archive:
        result = archive.stories.split(article_id)
    if as_json:
        click.echo(to_json(result))
        return
    left = result["left"]
    rest = f"story {left['id']} keeps {len(left['copies'])} copies" if left else "no story is left"
    click.echo(f"article {article_id} stands alone; {rest}")


@stories.command()
@click.argument("first_id", type=int, metavar="ID")
@click.argument("second_id", type=int, metavar="ID")
@format_option(("table", "json"), default="table")
@pass_context
@library_errors
def merge(ctx: Context, first_id: int, second_id: int, fmt: str) -> None:
    """Make the stories of two articles one, for good (split undoes it).

    \b
    archiver stories merge 42 57
    """
    with ctx.archive() as archive:
        story = archive.stories.merge(first_id, second_id)
    _echo_story(story, fmt)


@stories.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_context
@library_errors
def rebuild(ctx: Context, as_json: bool) -> None:
    """Fingerprint every article again and link the copies anew, obeying split and merge:
    for an archive made before stories, or after an upgrade that changes the fingerprint.

    \b
    archiver stories rebuild
    """
    with ctx.archive() as archive:
        report = archive.stories.rebuild()
    echo_report(
        report,
        as_json,
        f"{report.articles} articles, {report.fingerprinted} fingerprinted: "
        f"{report.stories} stories of {report.copies} copies",
    )


def _echo_story(story: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        click.echo(to_json(story))
        return
    click.echo(f"story {story['id']}, origin {story['origin']}, {len(story['copies'])} copies")
    click.echo(render(story["copies"], COPY_COLUMNS, "table"))

"""The ``archiver`` command group: the global options, and every verb module's commands."""

from __future__ import annotations

import click

from archiver import __version__
from archiver.cli.crawl import crawl, run, worker
from archiver.cli.db import db
from archiver.cli.options import Context
from archiver.cli.query import runs, search, show, stats
from archiver.cli.serve import serve
from archiver.cli.sources import sources
from archiver.cli.transfer import export_command, import_command

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


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


VERBS = (
    crawl,
    run,
    worker,
    search,
    show,
    stats,
    runs,
    sources,
    export_command,
    import_command,
    serve,
    db,
)
"""Every command of ``archiver``, from the verb modules; ``--help`` lists them sorted.
The verb modules never import this one: the group takes their commands, one way."""

for verb in VERBS:
    cli.add_command(verb)


def main() -> None:
    """The console script (``archiver``, ``python -m archiver``): run the group, which exits
    with the command's status."""
    cli(prog_name="archiver")

"""The ``archiver`` command group: the global options, and every verb module's commands."""

from __future__ import annotations

import atexit
import gc
import sys
from typing import Any

import click

from archiver import __version__
from archiver.cli.captures import captures_command, reprocess
from archiver.cli.crawl import crawl, run, worker
from archiver.cli.datasette import datasette_metadata_command
from archiver.cli.db import db
from archiver.cli.options import Context
from archiver.cli.query import runs, search, show, stats
from archiver.cli.serve import serve
from archiver.cli.sources import sources
from archiver.cli.stories import stories
from archiver.cli.transfer import export_command, import_command

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class OneLineErrors(click.Group):
    """The group whose errors are one line: click prints a usage error as the usage, a hint
    and the error on three; here it is ``Error: <what is wrong> (see 'archiver VERB -h')``,
    with click's exit codes (2 for bad usage, the exception's own otherwise)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("standalone_mode", True):
            return super().main(*args, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as exc:
            if isinstance(exc, _NO_ARGS_IS_HELP) and exc.ctx is not None:
                click.echo(exc.ctx.get_help(), err=True)  # a bare group: its help, as click
                sys.exit(exc.exit_code)
            hint = f" (see '{exc.ctx.command_path} -h')" if exc.ctx is not None else ""
            message = " ".join(exc.format_message().split())
            click.echo(f"Error: {message}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


class _NeverRaised(click.UsageError):
    """Stands for ``NoArgsIsHelpError`` on click versions without it."""


_NO_ARGS_IS_HELP: type[click.UsageError] = getattr(
    click.exceptions, "NoArgsIsHelpError", _NeverRaised
)
"""Click's error for a group called without a command (8.2 and later)."""


@click.group(cls=OneLineErrors, context_settings=CONTEXT_SETTINGS)
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
    stories,
    export_command,
    import_command,
    datasette_metadata_command,
    serve,
    db,
    captures_command,
    reprocess,
)
"""Every command of ``archiver``, from the verb modules; ``--help`` lists them sorted.
The verb modules never import this one: the group takes their commands, one way."""

for verb in VERBS:
    cli.add_command(verb)


def main() -> None:
    """The console script (``archiver``, ``python -m archiver``): run the group, which exits
    with the command's status."""
    skip_last_collections()
    cli(prog_name="archiver")


def skip_last_collections() -> None:
    """Leave this process's objects to the operating system at exit, not to the collector.

    The interpreter's last collections walk every object the imports made (Scrapy, Twisted,
    SQLAlchemy, their modules and classes): 0.6 to 0.7 s after every crawl, a sixth of an
    unchanged ``run``, for memory the process is about to give back. Registered first, the
    freeze runs after every other exit handler; what the commands write is closed before they
    return, and only objects left in reference cycles go unfinalized, as the language allows
    at exit.
    """
    atexit.register(gc.freeze)

"""``archiver db``: the archive's database schema."""

from __future__ import annotations

import click

from archiver.cli.options import Context, library_errors, pass_context


@click.group()
def db() -> None:
    """Manage the archive's database."""


@db.command()
@pass_context
@library_errors
def upgrade(ctx: Context) -> None:
    """Create the archive or bring its schema up to date (also done on first use); close
    the capture files a killed crawl left open and index the records it had not.

    \b
    archiver --db postgresql://localhost/archive db upgrade
    """
    from archiver.storage.db import create_archive_engine, current_revision, ensure_schema

    engine = create_archive_engine(ctx.database_url)
    try:
        ensure_schema(engine)  # under the migrations' lock, as on first use
        click.echo(
            f"{engine.url.render_as_string(hide_password=True)} is at revision "
            f"{current_revision(engine)}"
        )
    finally:
        engine.dispose()
    _index_captures(ctx)


def _index_captures(ctx: Context) -> None:
    """Close the WARC files killed crawls left open and index the records the index missed
    (nothing twice)."""
    from archiver.captures.files import index_files
    from archiver.captures.location import cli_captures_dir
    from archiver.errors import ConfigurationError

    try:
        directory = cli_captures_dir(ctx.media_dir)
    except ConfigurationError:
        return  # a remote capture store: nothing of it is on this machine
    with ctx.archive() as archive:
        report = index_files(archive, directory)
    if report.recovered or report.indexed:
        click.echo(
            f"captures: {len(report.recovered)} files closed after a crash, "
            f"{report.indexed} records indexed"
        )

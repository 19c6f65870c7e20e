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
    """Create the archive or bring its schema up to date (also done on first use).

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

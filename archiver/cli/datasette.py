"""``archiver datasette-metadata``: the metadata that makes ``datasette archive.db`` readable."""

from __future__ import annotations

import click

from archiver.cli.options import Context, library_errors, pass_context
from archiver.cli.output import to_json


@click.command("datasette-metadata")
@click.option(
    "--name",
    metavar="NAME",
    help="The database's name in Datasette. [default: the SQLite file's name without .db]",
)
@pass_context
@library_errors
def datasette_metadata_command(ctx: Context, name: str | None) -> None:
    """Print Datasette's metadata.json for the archive: titles and descriptions of its tables
    and views, the columns that label their rows, their order; the index's tables hidden.

    The search box of articles and article_list comes from the plugin that installing
    feed-archiver beside Datasette registers (it searches as `archiver search` does).

    \b
    archiver --db archive.db datasette-metadata > metadata.json
    datasette archive.db --metadata metadata.json
    """
    from pathlib import PurePath

    from archiver.datasette.metadata import datasette_metadata
    from archiver.storage.db import resolve_database_url

    if name is None:
        url = resolve_database_url(ctx.database_url)
        path = url.split("?", 1)[0].partition(":///")[2] if url.startswith("sqlite") else ""
        # Datasette names a database by its file's name without the extension.
        name = PurePath(path).stem if path and path != ":memory:" else "archive"
    click.echo(to_json(datasette_metadata(name)))

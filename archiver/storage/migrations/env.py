"""Alembic environment: runs the archive's migrations on the engine the library hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from archiver.storage.db import create_archive_engine
from archiver.storage.models import Base
from archiver.storage.search import include_name

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):  # the `alembic` command line, with -x db=URL
        engine = create_archive_engine(context.get_x_argument(as_dictionary=True).get("db"))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
            compare_type=True,
            include_name=include_name,  # the search index and views are not models
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()

"""Engines and migrations: SQLite (WAL) by default, any SQLAlchemy URL otherwise."""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from archiver.errors import ConfigurationError, DatabaseError

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite:///archive.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def resolve_database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else ``ARCHIVER_DATABASE_URL``, else ``./archive.db``.

    A bare path (``archive.db``, ``/data/a.sqlite``) is taken as a SQLite file.
    """
    url = url or os.environ.get("ARCHIVER_DATABASE_URL") or DEFAULT_DATABASE_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    return url


def create_archive_engine(url: str | None = None) -> Engine:
    """An engine for the archive at *url*, configured for concurrent crawls and readers.

    SQLite gets WAL mode (readers never block the crawl), a busy timeout and foreign keys;
    PostgreSQL URLs without a driver use psycopg 3.
    """
    url = resolve_database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # Chinese text stays readable (and searchable with LIKE) inside JSON columns.
    kwargs: dict[str, Any] = {"json_serializer": lambda obj: json.dumps(obj, ensure_ascii=False)}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            directory = Path(database).expanduser().resolve().parent
            if not directory.is_dir():
                raise DatabaseError(
                    f"cannot create {database}: directory {directory} does not exist"
                )
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"no driver for {parsed.drivername!r} database URLs ({exc}); "
            "for PostgreSQL install 'feed-archiver[postgres]'"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    return engine


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed row
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def fold_wal(engine: Engine) -> None:
    """Write a SQLite archive's WAL back into the database file and empty it, if no other
    process is writing at that moment (never waiting for one): after a command the archive
    is its one file, which a user may copy. SQLite does it by itself when the last
    connection closes, but not while another one is open, even idle (another process's,
    such as ``archiver serve``; after ``archiver run`` of 10,000 articles one still was):
    the WAL then stayed, as large as the last writes (4 MB after an unchanged poll of
    10,000 articles)."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except SQLAlchemyError:
        pass  # a read-only or vanished file: nothing to fold, and closing must not fail


@functools.cache
def migrations_dir() -> Path:
    """Where Alembic reads the migrations: the package's directory, or, when the package is
    imported from a zip (the egg Scrapyd runs), a copy of them in a temporary directory
    (Alembic lists a directory; it cannot read a zip)."""
    if MIGRATIONS_DIR.is_dir():
        return MIGRATIONS_DIR
    import atexit
    import shutil
    import tempfile
    from importlib.resources import files
    from importlib.resources.abc import Traversable

    copy = Path(tempfile.mkdtemp(prefix="archiver-migrations-")) / "migrations"
    atexit.register(shutil.rmtree, copy.parent, ignore_errors=True)

    def extract(source: Traversable, target: Path) -> None:
        target.mkdir()
        for entry in source.iterdir():
            if entry.is_dir():
                if entry.name != "__pycache__":
                    extract(entry, target / entry.name)
            elif entry.name.endswith((".py", ".mako")):
                (target / entry.name).write_bytes(entry.read_bytes())

    extract(files("archiver.storage").joinpath("migrations"), copy)
    return copy


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to *revision* with the migrations shipped in the package."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot upgrade {engine.url!r}: {first_line(exc)}") from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrations_dir()))
    return script.get_current_head()


_REVISION = re.compile(r"^(down_revision|revision)(?:\s*:[^=]*)?=\s*(.*?)\s*$", re.MULTILINE)


def _declared_head() -> str | None:
    """The head revision read from the migration files' ``revision`` and ``down_revision``
    lines without Alembic (whose import and script loading cost a crawl about a second of
    start-up); None whenever the files say anything but one plain chain, and Alembic
    decides."""
    names: dict[str, str | None] = {}
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION.findall(path.read_text("utf-8")))
        revision, down = found.get("revision", ""), found.get("down_revision", "")
        if not re.fullmatch(r"[\"'][\w.-]+[\"']", revision):
            return None
        if down != "None" and not re.fullmatch(r"[\"'][\w.-]+[\"']", down):
            return None  # a merge (a tuple) or anything else: Alembic reads it
        names[revision[1:-1]] = None if down == "None" else down[1:-1]
    heads = set(names) - set(names.values())
    return heads.pop() if len(heads) == 1 else None


def _recorded_revision(engine: Engine) -> str | None:
    """What ``alembic_version`` says, read with plain SQL; None when it cannot say."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_schema(engine: Engine) -> None:
    """Apply pending migrations on first use, so a new archive needs no set-up step.

    Under a lock (:func:`migration_lock`), the revision read again inside it: of two
    processes opening a new archive at once (two crawls, a crawl and cron's ``run``), the
    first creates the schema and the second finds it made."""
    declared = _declared_head()
    if declared is not None and _revision(engine, _recorded_revision) == declared:
        return  # at head: no Alembic needed
    head = head_revision()
    if _revision(engine) == head:
        return
    with migration_lock(engine):
        current = _revision(engine)
        if current == head:
            return  # another process upgraded it while this one waited
        if current is None and inspect(engine).has_table("articles"):
            raise DatabaseError(f"{_safe_url(engine)} holds tables that no migration made")
        logger.info("Upgrading %s from %s to head", _safe_url(engine), current or "empty")
        upgrade(engine)


def _revision(
    engine: Engine, read: Callable[[Engine], str | None] = current_revision
) -> str | None:
    try:
        return read(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(
            f"cannot open the database {_safe_url(engine)}: {first_line(exc)}"
        ) from exc


MIGRATION_LOCK_KEY = 0x61726368  # "arch": pg_advisory_lock's key for the archive's migrations


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while the schema is created or upgraded; one process at a time.

    PostgreSQL: a session advisory lock (``pg_advisory_lock``), released when the session
    ends, however it ends. A SQLite file: an ``flock`` on ``<file>.migrate-lock`` beside
    it, which the kernel releases when the process dies (not the database file itself:
    SQLite's own POSIX locks would be dropped by closing another descriptor of it), removed
    once the schema is made. Other databases: none."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                connection.commit()
        return
    database = engine.url.database or ""
    if (
        engine.dialect.name != "sqlite"
        or database in ("", ":memory:")
        or database.startswith("file:")
    ):
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - POSIX has fcntl
        yield
        return
    lock_path = (
        Path(database).expanduser().resolve().with_name(Path(database).name + ".migrate-lock")
    )
    descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        with suppress(OSError):
            lock_path.unlink()  # whoever waits next finds the schema made, and re-checks
        os.close(descriptor)


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__

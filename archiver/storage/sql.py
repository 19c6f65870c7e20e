"""What the archive's parts share: the dialect-specific inserts and upserts, and batching."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Result, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from archiver.storage.models import Article, Base

Transaction = Callable[[], AbstractContextManager[Session]]
"""``Archive.session``: a session in a transaction, committed on success, rolled back on
error (SQLAlchemy errors but IntegrityError become DatabaseError). Every part holds it."""


def chunks(values: Sequence[Any], size: int = 1000) -> Iterator[Sequence[Any]]:
    """*values* a thousand at a time: SQLite binds at most 32,766 values a statement."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def published_month(session: Session) -> ColumnElement[Any]:
    """An article's month of publication, ``YYYY-MM`` in UTC, as the database computes it:
    on SQLite the first seven characters of the UTC text it keeps (cheaper per row than
    ``strftime``, and the same text), on PostgreSQL ``to_char`` of the time in UTC."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Article.published), "YYYY-MM")
    return func.substr(Article.published, 1, 7)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE touched."""
    return int(getattr(result, "rowcount", 0))


def insert_ignore(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping any that would break a unique constraint (any dialect)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite.insert(model).on_conflict_do_nothing(), rows)
    elif dialect == "postgresql":
        session.execute(postgresql.insert(model).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - other dialects: one savepoint per row
        for row in rows:
            try:
                with session.begin_nested():
                    session.add(model(**row))
            except IntegrityError:
                pass


def upsert(session: Session, model: type[Base], values: dict[str, Any], *, key: str) -> None:
    """INSERT *values* or, when *key* exists, UPDATE the other columns (any dialect)."""
    upsert_many(session, model, [values], key=key)


def upsert_many(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    *,
    key: str,
    where: ColumnElement[bool] | None = None,
) -> None:
    """INSERT *rows* (dicts with the same keys) or, where *key* exists, UPDATE the other
    columns, in one ``executemany``; with *where*, only rows where it holds are updated."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - other dialects
        column = getattr(model, key)
        for values in rows:
            same = column == values[key]
            row = session.scalars(select(model).where(same)).first()
            if row is None:
                session.add(model(**values))
            elif where is None or session.scalars(select(model).where(same & where)).first():
                for name, value in values.items():
                    setattr(row, name, value)
        return
    table: Any = model.__table__  # Core: none of the ORM's per-row work
    statement = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(table)
    statement = statement.on_conflict_do_update(
        index_elements=[key],
        set_={k: statement.excluded[k] for k in rows[0] if k != key},
        where=where,
    )
    session.execute(statement, rows)


def insert_many(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """INSERT *rows* (dicts with the same keys; a column left out takes its default) with one
    ``executemany``. On SQLite the values go straight to the driver, converted by the
    columns' own bind processors (JSON, dates) as SQLAlchemy would: its per-row handling is
    otherwise a third of a bulk import's Python time."""
    if not rows:
        return
    table: Any = model.__table__
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(insert(table), list(rows))
        return
    compiled: Any = insert(table).compile(dialect=dialect, column_keys=list(rows[0]))
    order = list(compiled.positiontup)
    # Columns the rows leave out take their Python-side defaults, as SQLAlchemy gives them.
    missing = {key: table.c[key].default for key in order if key not in rows[0]}
    if missing:
        filled = {key: d.arg(None) if d.is_callable else d.arg for key, d in missing.items()}
        rows = [{**filled, **row} for row in rows]
    converters = [
        (position, convert)
        for position, key in enumerate(order)
        if (convert := table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    values: list[tuple[Any, ...]] = []
    for row in rows:
        picked = [row[key] for key in order]
        for position, convert in converters:
            picked[position] = convert(picked[position])
        values.append(tuple(picked))
    connection.exec_driver_sql(str(compiled), values)

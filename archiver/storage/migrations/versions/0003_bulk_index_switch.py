"""a switch that lets a bulk write index its new articles in one statement (SQLite)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 19:30:00

FTS5 writes the terms it holds in memory to disk as a new index segment at every statement
that fires the insert trigger: a batch inserted row by row wrote one segment per article, and
FTS5 then spent longer merging them than tokenizing. ``articles_fts_deferred`` holds a row
only inside a bulk write's own transaction; while it does, the insert trigger stands aside
and the writer indexes its new rows in one ``INSERT ... SELECT`` before it commits
(``archiver.storage.search.defer_indexing``). Empty at every commit, so every other writer
goes through the trigger as before.

``hashsize`` (the memory FTS5 fills before it writes a segment, 1 MB by default) goes to
64 MB so that a 5,000-article batch makes one segment. It is only held until the end of a
transaction, so a crawl, which commits article by article, never uses it.

PostgreSQL: nothing (its indexes are maintained by the table itself).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "coalesce(new.title, '') || '  ', coalesce(new.content_text, '') || '  '"
_INSERT_TRIGGER = """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles{when} BEGIN
    INSERT INTO articles_fts(rowid, title, content_text)
    VALUES (new.id, {new});
END"""
_HASHSIZE = "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', {size})"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE articles_fts_deferred (active INTEGER PRIMARY KEY)")
    op.execute("DROP TRIGGER articles_fts_insert")
    when = "\nWHEN NOT EXISTS (SELECT 1 FROM articles_fts_deferred)"
    op.execute(_INSERT_TRIGGER.format(when=when, new=_NEW))
    op.execute(_HASHSIZE.format(size=64 * 1024 * 1024))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER articles_fts_insert")
    op.execute(_INSERT_TRIGGER.format(when="", new=_NEW))
    op.execute("DROP TABLE articles_fts_deferred")
    op.execute(_HASHSIZE.format(size=1024 * 1024))

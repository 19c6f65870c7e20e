"""full-text search (FTS5 trigram on SQLite, pg_trgm and tsvector on PostgreSQL) and views

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:00:00

SQLite: ``articles_fts`` is an FTS5 table with the trigram tokenizer (substring search in any
script) over ``articles.title`` and ``articles.content_text``, kept in sync by three triggers.
The indexed values end with two spaces, so that every one- or two-character string of the text
begins some trigram: that is how queries shorter than three characters (``谷歌``) are answered
from the index. Its external content is the view ``articles_fts_source`` (the text as
indexed), so it stores no copy of the text and FTS5's ``rebuild`` and ``integrity-check``
work. The triggers and views
are dropped by, and the views make SQLite refuse, batch-mode migrations that copy
``articles``: a later migration whose ``batch_alter_table("articles")`` copies the table must
call ``archiver.storage.search.drop_search_objects(op.execute, dialect)`` before and
``create_search_objects(op.execute, dialect)`` after it.

PostgreSQL: ``pg_trgm`` GIN indexes on title and text (substring ``ILIKE`` in any script) and a
generated ``search_vector`` (English stemming, title weighted above text) with its GIN index.

Both: views that make the archive readable from ``sqlite3``, ``psql`` or Datasette.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the FTS index holds for a row: the text, then two spaces (see the docstring).
_TITLE = "coalesce({row}.title, '') || '  '"
_TEXT = "coalesce({row}.content_text, '') || '  '"

# The FTS table's external content: the text as indexed, so that FTS5's own 'rebuild' and
# 'integrity-check' commands see what the triggers wrote.
SQLITE_FTS_SOURCE = f"""CREATE VIEW articles_fts_source AS
SELECT a.id, {_TITLE.format(row="a")} AS title, {_TEXT.format(row="a")} AS content_text
FROM articles a"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, content_text)
    VALUES (new.id, {_TITLE.format(row="new")}, {_TEXT.format(row="new")});
END""",
    f"""CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text)
    VALUES ('delete', old.id, {_TITLE.format(row="old")}, {_TEXT.format(row="old")});
END""",
    f"""CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, content_text)
    VALUES ('delete', old.id, {_TITLE.format(row="old")}, {_TEXT.format(row="old")});
    INSERT INTO articles_fts(rowid, title, content_text)
    VALUES (new.id, {_TITLE.format(row="new")}, {_TEXT.format(row="new")});
END""",
)
SQLITE_TRIGGER_NAMES = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")

# Views: plain SQL over the tables, for people and other tools. Month and list functions
# differ between the dialects; everything else is shared.
_VIEW_NAMES = ("article_list", "source_stats", "monthly_stats", "image_stats")


def _views(dialect: str) -> dict[str, str]:
    if dialect == "postgresql":
        month = "to_char(a.published AT TIME ZONE 'UTC', 'YYYY-MM')"
        categories = (
            "(SELECT string_agg(c.name, ' / ' ORDER BY ac.position) FROM article_categories ac "
            "JOIN categories c ON c.id = ac.category_id WHERE ac.article_id = a.id)"
        )
        authors = "(SELECT string_agg(value, ', ') FROM json_array_elements_text(a.authors))"
    else:
        month = "strftime('%Y-%m', a.published)"
        categories = (
            "(SELECT group_concat(name, ' / ') FROM (SELECT c.name AS name FROM "
            "article_categories ac JOIN categories c ON c.id = ac.category_id "
            "WHERE ac.article_id = a.id ORDER BY ac.position))"
        )
        authors = "(SELECT group_concat(value, ', ') FROM json_each(a.authors))"
    files = (
        "SELECT ai.article_id, i.sha256, max(i.size) AS size FROM article_images ai "
        "JOIN images i ON i.id = ai.image_id WHERE i.status = 'downloaded' "
        "GROUP BY ai.article_id, i.sha256"
    )
    return {
        "article_list": f"""CREATE VIEW article_list AS
SELECT a.id, a.published, s.name AS source, {categories} AS categories, a.title,
       {authors} AS authors, a.url, a.headimg, length(a.content_html) AS html_chars
FROM articles a JOIN sources s ON s.id = a.source_id""",
        "source_stats": f"""CREATE VIEW source_stats AS
SELECT s.id, s.name, s.kind, s.url, count(a.id) AS articles,
       min(a.published) AS oldest, max(a.published) AS newest,
       (SELECT count(*) FROM ({files}) f JOIN articles a2 ON a2.id = f.article_id
        WHERE a2.source_id = s.id) AS images,
       (SELECT coalesce(sum(f.size), 0) FROM ({files}) f JOIN articles a2 ON a2.id = f.article_id
        WHERE a2.source_id = s.id) AS image_bytes,
       s.last_crawled_at, s.last_status
FROM sources s LEFT JOIN articles a ON a.source_id = s.id
GROUP BY s.id, s.name, s.kind, s.url, s.last_crawled_at, s.last_status""",
        "monthly_stats": f"""CREATE VIEW monthly_stats AS
SELECT {month} AS month, s.name AS source, count(*) AS articles
FROM articles a JOIN sources s ON s.id = a.source_id
WHERE a.published IS NOT NULL
GROUP BY {month}, s.name""",
        "image_stats": """CREATE VIEW image_stats AS
SELECT status, media_type, count(*) AS images, coalesce(sum(size), 0) AS bytes
FROM images GROUP BY status, media_type""",
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_FTS_SOURCE)
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5(title, content_text, "
            "content='articles_fts_source', content_rowid='id', tokenize='trigram')"
        )
        op.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    elif dialect == "postgresql":
        _upgrade_postgresql()
    for view in _views(dialect).values():
        op.execute(view)


def _upgrade_postgresql() -> None:
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_articles_title_trgm ON articles USING gin (title gin_trgm_ops)")
        op.execute(
            "CREATE INDEX ix_articles_content_text_trgm ON articles "
            "USING gin (content_text gin_trgm_ops)"
        )
    op.execute(
        "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(content_text, '')), 'B')) STORED"
    )
    op.execute("CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in reversed(_VIEW_NAMES):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    if dialect == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        op.execute("DROP VIEW IF EXISTS articles_fts_source")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP INDEX IF EXISTS ix_articles_content_text_trgm")
        op.execute("DROP INDEX IF EXISTS ix_articles_title_trgm")

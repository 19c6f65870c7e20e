"""Whole articles: where the content came from, each field's origin, the page's fetch, captures

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:50:00

An entry whose feed falls short gets its page fetched and extracted (#11). The article keeps
where its content came from (``content_source``), where each front-matter field came from
(``provenance``), the digest of the feed's entry apart from that of what is archived
(``entry_hash``: an unchanged entry does not fetch its page again), and how its page's last
fetch went (status, error, failures in a row for the back-off, validators for a
conditional refresh). ``captures`` indexes the responses kept as WARC records (one row per
article a response served: the entries of several feeds may share one page). A source may
say when its pages are fetched (``full_text``) and where its site keeps the article
(``content_selectors``, ``remove_selectors``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from archiver.storage.models import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ARTICLE_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("content_source", sa.String(length=32), nullable=True),
    sa.Column("provenance", sa.JSON(), nullable=True),
    sa.Column("entry_hash", sa.String(length=64), nullable=True),
    sa.Column("page_status", sa.String(length=16), nullable=True),
    sa.Column("page_error", sa.Text(), nullable=True),
    sa.Column("page_failures", sa.Integer(), server_default="0", nullable=False),
    sa.Column("page_attempted_at", UTCDateTime(), nullable=True),
    sa.Column("page_url", sa.String(length=2048), nullable=True),
    sa.Column("page_etag", sa.String(length=512), nullable=True),
    sa.Column("page_last_modified", sa.String(length=128), nullable=True),
)
_SOURCE_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("full_text", sa.String(length=8), nullable=True),
    sa.Column("content_selectors", sa.JSON(), nullable=True),
    sa.Column("remove_selectors", sa.JSON(), nullable=True),
)


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too: a batch copy of the tables would trip over the views.
    for column in _ARTICLE_COLUMNS:
        op.add_column("articles", column)
    for column in _SOURCE_COLUMNS:
        op.add_column("sources", column)
    # What was archived so far came from the feed alone: its digest is the entry's.
    op.execute("UPDATE articles SET entry_hash = content_hash")
    op.execute(
        "UPDATE articles SET content_source = 'feed' "
        "WHERE content_html IS NOT NULL AND content_source IS NULL"
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("payload_digest", sa.String(length=64), nullable=False),
        sa.Column("warc_file", sa.String(length=255), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_captures_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_captures_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captures")),
    )
    op.create_index(op.f("ix_captures_url"), "captures", ["url"])
    op.create_index(op.f("ix_captures_article_id"), "captures", ["article_id"])
    op.create_index(op.f("ix_captures_payload_digest"), "captures", ["payload_digest"])


def downgrade() -> None:
    op.drop_table("captures")
    for table, columns in (("sources", _SOURCE_COLUMNS), ("articles", _ARTICLE_COLUMNS)):
        for column in columns:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column.name}")

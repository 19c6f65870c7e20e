"""Captures of every response: record types, the source and run of each, the index by file

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:40:00

Feeds, sitemaps and pages are all kept as WARC records now (#12), an unchanged payload as a
``revisit`` record. Each row of ``captures`` says which (``record_type``), the source the
response was fetched for (``source_url``: the crawl indexes a response before the source may
have a row) and the run that fetched it (``run_id``). ``(warc_file, offset)`` is indexed: the
records found in the files are indexed once (``archiver db upgrade`` indexes those a crash
left out, and nothing twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too, as 0006: a batch copy would trip over the views.
    op.add_column(
        "captures",
        sa.Column("record_type", sa.String(length=16), server_default="response", nullable=False),
    )
    op.add_column("captures", sa.Column("source_url", sa.String(length=2048), nullable=True))
    op.add_column("captures", sa.Column("run_id", sa.Integer(), nullable=True))
    # What 0006 indexed were the pages of entries: their source is the article's.
    op.execute(
        "UPDATE captures SET source_url = "
        "(SELECT sources.url FROM sources WHERE sources.id = captures.source_id)"
    )
    op.create_index(op.f("ix_captures_source_url"), "captures", ["source_url"])
    op.create_index("ix_captures_warc_file_offset", "captures", ["warc_file", "offset"])


def downgrade() -> None:
    op.drop_index("ix_captures_warc_file_offset", table_name="captures")
    op.drop_index(op.f("ix_captures_source_url"), table_name="captures")
    for column in ("run_id", "source_url", "record_type"):
        op.execute(f"ALTER TABLE captures DROP COLUMN {column}")

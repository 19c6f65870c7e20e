"""Articles indexed by source and publication date, for the counts per source and month

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:10:00

The reader's sources page and ``archiver stats`` count every source's articles per month and
their oldest and newest. With only ``source_id`` indexed that read every article row, texts
included: 25 s on a cold million-article archive. ``(source_id, published)`` answers those
counts from the index alone; it replaces the index on ``source_id``, whose lookups it serves
as well (and the unique ``(source_id, guid)`` serves them too).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_articles_source_id_published", "articles", ["source_id", "published"])
    op.drop_index("ix_articles_source_id", table_name="articles")


def downgrade() -> None:
    op.create_index("ix_articles_source_id", "articles", ["source_id"])
    op.drop_index("ix_articles_source_id_published", table_name="articles")

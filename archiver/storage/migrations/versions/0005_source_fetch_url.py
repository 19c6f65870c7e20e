"""sources.fetch_url: where a source moved for good (a permanent redirect)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 20:55:00

A feed answering 301 or 308 has moved for good. Following the redirect on every crawl costs a
request each time and fails once the old address is gone; the source's URL is its identity
(articles, OPML, ``sources remove NAME|URL``) and does not change, so the new address is kept
beside it and fetched instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("fetch_url", sa.String(length=2048), nullable=True))


def downgrade() -> None:
    # In place on SQLite too (3.35+): a batch copy of ``sources`` would trip over the views.
    op.execute("ALTER TABLE sources DROP COLUMN fetch_url")

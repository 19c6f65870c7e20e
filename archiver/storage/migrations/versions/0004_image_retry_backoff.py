"""failed images back off: images.failures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:40:00

A failed image was fetched again by every crawl that saw its article. The archive now counts
the failed attempts in a row, and the images pipeline leaves a failed image alone until
``last_attempt`` is a delay behind that doubles with each failure (the delay is a setting, so
it is worked out at each crawl, not stored). Existing failed images get ``failures = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN is in place on both dialects (no batch copy of ``images``).
    op.add_column("images", sa.Column("failures", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE images SET failures = 1 WHERE status = 'failed'")


def downgrade() -> None:
    # In place on SQLite too (3.35+): a batch copy of ``images`` would trip over the views.
    op.execute("ALTER TABLE images DROP COLUMN failures")

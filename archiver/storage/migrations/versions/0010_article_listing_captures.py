"""Each article's span of its feed's captures: the first and the last that held it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 08:00:00

``show --format json`` names every capture an article was read from (#12): its page's, and
its feed's (or sitemap's) from the response that first gave it up to the last that still
held it. ``articles.first_listing_capture_id`` and ``last_listing_capture_id`` are those two
records (the crawl sets them from the response each entry was read from); the records
between are one range of ``captures`` by ``(url, id)``, the index this adds in place of the
one on ``url`` alone (which it serves as well), so a feed polled every 30 minutes for a year
costs one index range per article, not a row per article per poll.

Articles archived before: the span is made from the times the archive has, the latest feed
capture of the article's source fetched by ``first_seen`` and by ``last_seen`` (an article
the crawl stored is seen after its feed's response is indexed). Exact for a source crawled
by one process at a time; articles of sitemap sources are left without one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LATEST_FEED_CAPTURE = (
    "(SELECT captures.id FROM captures JOIN sources ON sources.url = captures.source_url "
    "WHERE sources.id = articles.source_id AND captures.kind = 'feed' "
    "AND captures.fetched_at <= articles.{column} "
    "ORDER BY captures.fetched_at DESC, captures.id DESC LIMIT 1)"
)


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too, as 0006 and 0008: a batch copy would trip over the views.
    op.add_column("articles", sa.Column("first_listing_capture_id", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("last_listing_capture_id", sa.Integer(), nullable=True))
    op.create_index("ix_captures_url_id", "captures", ["url", "id"])
    op.drop_index(op.f("ix_captures_url"), table_name="captures")
    op.execute(
        "UPDATE articles SET "
        f"first_listing_capture_id = {_LATEST_FEED_CAPTURE.format(column='first_seen')}, "
        f"last_listing_capture_id = {_LATEST_FEED_CAPTURE.format(column='last_seen')}"
    )


def downgrade() -> None:
    op.create_index(op.f("ix_captures_url"), "captures", ["url"])
    op.drop_index("ix_captures_url_id", table_name="captures")
    for column in ("last_listing_capture_id", "first_listing_capture_id"):
        op.execute(f"ALTER TABLE articles DROP COLUMN {column}")

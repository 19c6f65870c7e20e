"""Stories of copies: text fingerprints with LSH band columns, stories, manual overrides

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00

The same text reaches the archive through several sources (#17). Each article's text gets a
fingerprint (``fingerprints``: MinHash band keys, one indexed column per band, so finding an
article's candidates is a few index lookups); copies are linked into ``stories``
(``articles.story_id``, the origin in ``stories.origin_id``); ``story_overrides`` keeps what
``archiver stories split`` and ``merge`` said, which every linking obeys.

Down revision: 0006 on this branch; 0007 (captures, #12) comes between at merge.

Existing articles have no fingerprint yet: ``archiver stories rebuild`` makes them (the
migration does not: it would freeze today's fingerprint code into a migration).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from archiver.storage.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = 16


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too: a batch copy of the table would trip over the views.
    op.add_column("articles", sa.Column("story_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_articles_story_id"), "articles", ["story_id"])
    op.create_table(
        "fingerprints",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        *(sa.Column(f"band_{band}", sa.BigInteger(), nullable=False) for band in range(BANDS)),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_fingerprints_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_fingerprints")),
    )
    for band in range(BANDS):
        op.create_index(op.f(f"ix_fingerprints_band_{band}"), "fingerprints", [f"band_{band}"])
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_id"], ["articles.id"], name=op.f("fk_stories_origin_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    op.create_table(
        "story_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_story_overrides_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["other_id"], ["articles.id"], name=op.f("fk_story_overrides_other_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_overrides")),
        sa.UniqueConstraint(
            "article_id", "other_id", name=op.f("uq_story_overrides_article_id_other_id")
        ),
    )
    op.create_index(op.f("ix_story_overrides_other_id"), "story_overrides", ["other_id"])


def downgrade() -> None:
    op.drop_table("story_overrides")
    op.drop_table("stories")
    op.drop_table("fingerprints")
    op.drop_index(op.f("ix_articles_story_id"), table_name="articles")
    op.execute("ALTER TABLE articles DROP COLUMN story_id")

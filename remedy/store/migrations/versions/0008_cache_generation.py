"""cache generation

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-28 09:00:00

One row counting the changes web workers cache (keys, configuration versions, model promotions):
each worker reads it once per request and drops what it cached when it moved
(remedy/store/generation.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    table = op.create_table(
        "cache_generation",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_generation")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("cache_generation")

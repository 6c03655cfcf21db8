"""fix first: the most generous plan offered; when the agent answered and the fix was done

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (plain ALTER TABLE ADD COLUMN on both databases)."""
    op.add_column("decisions", sa.Column("generous_plan_id", sa.String(length=255), nullable=True))
    op.add_column("outcomes", sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outcomes", sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("outcomes", "fixed_at")
    op.drop_column("outcomes", "responded_at")
    op.drop_column("decisions", "generous_plan_id")

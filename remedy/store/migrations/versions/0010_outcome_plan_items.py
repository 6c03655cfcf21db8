"""outcome plan items

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 12:00:00

The priced items of the plan an outcome is for, copied from its decision when the outcome is
recorded: training reads one row per outcome, and a decision's `priced_items` holds every item
it priced (~2 kB of JSON), of which the plan uses a few. Outcomes recorded before this revision
have none; training reads their decision's priced items instead (training/read_logs.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("outcomes", sa.Column("plan_items", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("outcomes", "plan_items")

"""decision language

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:30:00

The language a decision's labels, reasons, notes and talking points were written in. Decisions
logged before this revision have none; remedy/decisions/record.py reads it from their talking
points.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("decisions", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("decisions", "language")

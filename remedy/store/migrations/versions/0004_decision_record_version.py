"""decision record version

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 06:30:00

Decisions logged before this revision read as record version 1 (the server default), so replays
and training still read them (remedy/decisions/record.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE on both databases (SQLite adds and, since 3.35, drops columns natively;
    # a batch copy of the table would trip the foreign keys that point at decisions).
    op.add_column(
        "decisions", sa.Column("record_version", sa.Integer(), server_default="1", nullable=False)
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("decisions", "record_version")

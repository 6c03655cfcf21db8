"""job workers

Revision ID: 0012h
Revises: 0012p
Create Date: 2026-12-07 00:20:00

One row per `remedy worker` process, written when it starts and every few seconds while it
runs (`seen_at`), so /readyz can tell whether any live worker would run a queued job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012h"
down_revision = "0012p"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "job_workers",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_job_workers_seen_at", "job_workers", ["seen_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_job_workers_seen_at", table_name="job_workers")
    op.drop_table("job_workers")

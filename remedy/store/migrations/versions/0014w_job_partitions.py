"""job partitions

Revision ID: 0014w_job_partitions
Revises: 0014c_experiments
Create Date: 2026-12-07 06:40:00

A large what-if is split into partition jobs that any worker claims (remedy/whatif/
partitions.py); each partition names the job it belongs to (`jobs.parent_id`), so the parent
finds, runs and merges its own partitions and a cancel reaches them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0014w_job_partitions"
down_revision = "0014c_experiments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
    op.create_index("ix_jobs_parent_id", "jobs", ["parent_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_jobs_parent_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("parent_id")

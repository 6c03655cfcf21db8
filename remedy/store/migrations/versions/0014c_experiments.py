"""champion/challenger experiments: the experiment, its checks, and each decision's arm

Revision ID: 0014c_experiments
Revises: 0013w_delivery_event_index
Create Date: 2026-12-07 06:30:00

`model_experiments` holds a challenger model on a share of customers (one running at a time:
`running_slot` is unique and set only while it runs), `model_experiment_checks` each look the
worker's pass took at its running comparison, and every decision says the experiment and arm
it was decided in (`decisions.experiment_id`, `decisions.arm`; null outside one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014c_experiments"
down_revision = "0013w_delivery_event_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "model_experiments",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("challenger", sa.String(64), nullable=False),
        sa.Column("champion", sa.String(64), nullable=False),
        sa.Column("share", sa.String(24), nullable=False),
        sa.Column("alpha", sa.Float(), nullable=False),
        sa.Column("max_per_arm", sa.Integer(), nullable=False),
        sa.Column("min_per_arm", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("running_slot", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(64), nullable=True),
        sa.Column("end_reason", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenger"],
            ["model_versions.version"],
            name="fk_model_experiments_challenger_model_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_model_experiments"),
        sa.UniqueConstraint("running_slot", name="uq_model_experiments_running_slot"),
    )
    op.create_table(
        "model_experiment_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comparison", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["model_experiments.id"],
            name="fk_model_experiment_checks_experiment_id_model_experiments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_model_experiment_checks"),
    )
    op.create_index(
        "ix_model_experiment_checks_experiment_id",
        "model_experiment_checks",
        ["experiment_id"],
    )
    op.add_column("decisions", sa.Column("experiment_id", sa.String(32), nullable=True))
    op.add_column("decisions", sa.Column("arm", sa.String(16), nullable=True))
    op.create_index("ix_decisions_experiment_id", "decisions", ["experiment_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_decisions_experiment_id", table_name="decisions")
    # Dropped in place, as 0013d drops `touchpoint` (SQLite >= 3.35): a batch copy of
    # `decisions` would drop the table the other tables' foreign keys point at.
    op.drop_column("decisions", "arm")
    op.drop_column("decisions", "experiment_id")
    op.drop_index(
        "ix_model_experiment_checks_experiment_id", table_name="model_experiment_checks"
    )
    op.drop_table("model_experiment_checks")
    op.drop_table("model_experiments")

"""outcome features

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 12:30:00

Each outcome keeps what retraining reads of its plan, computed when the outcome is recorded:
the plan's feature row (`features`: float64 bytes, `features_version`: the feature definition
it was computed with, models/features.py `FEATURE_VERSION`) and the plan's cost in minor units
(`plan_cost_minor`, for the realised net value). Training rebuilds the row from the decision
when the version differs or the outcome predates this revision (training/read_logs.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outcomes") as batch_op:
        batch_op.add_column(sa.Column("features", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("features_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("plan_cost_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outcomes") as batch_op:
        batch_op.drop_column("plan_cost_minor")
        batch_op.drop_column("features_version")
        batch_op.drop_column("features")

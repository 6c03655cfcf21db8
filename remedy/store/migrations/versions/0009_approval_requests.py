"""approval requests

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-28 09:00:00

The approvers' queues: one row per plan or overage sent for approval, with the tier that
decides it (lead or finance), its escalation and the decision (who, when, why). Decisions
already pending before this revision have no row: finance and admin decide them, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("decision_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("requested_tier", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_role", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_approval_requests_decision_id_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_requests")),
    )
    op.create_index(
        op.f("ix_approval_requests_decision_id"), "approval_requests", ["decision_id"]
    )
    op.create_index(
        "ix_approval_requests_queue", "approval_requests", ["state", "tier", "requested_at"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_approval_requests_queue", table_name="approval_requests")
    op.drop_index(op.f("ix_approval_requests_decision_id"), table_name="approval_requests")
    op.drop_table("approval_requests")

"""panel integrations and expiring keys

Revision ID: 0012p
Revises: 0011
Create Date: 2026-12-01 10:00:00

A help desk's integration (name, team, allowed origins, the HS256 secret its backend signs
panel sign-in tokens with) and, on API keys, when a panel session's key expires and which
integration vouched for it (both null for the keys an admin makes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012p"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "integrations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("allowed_origins", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_integrations"),
    )
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("integration_id", sa.String(32), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("integration_id")
        batch_op.drop_column("expires_at")
    op.drop_table("integrations")

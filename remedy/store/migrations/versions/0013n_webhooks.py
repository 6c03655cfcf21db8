"""webhooks: subscriptions per team and their outbox (the delivery log)

Revision ID: 0013n_webhooks
Revises: 0013m_mass_incidents
Create Date: 2026-12-07 03:00:00

`webhooks` holds a team's subscriptions (URL, events, the HMAC secret it signs with: stored
as issued, since signing needs the very bytes; remedy/services/webhooks.py says why).
`webhook_deliveries` is the outbox and the delivery log in one: a row is written in the
transaction of the event it tells of, and `remedy worker` sends it, retrying with backoff.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013n_webhooks"
down_revision = "0013m_mass_incidents"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_webhooks_team", "webhooks", ["team"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "webhook_id",
            sa.String(32),
            sa.ForeignKey("webhooks.id", name="fk_webhook_deliveries_webhook"),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("redelivery_of", _BIG, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_webhook_deliveries_webhook", "webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhooks_team", "webhooks")
    op.drop_table("webhooks")

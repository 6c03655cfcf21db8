"""webhook deliveries: an index on event_id

Revision ID: 0013w_delivery_event_index
Revises: 0013n_webhooks
Create Date: 2026-12-07 06:30:00

The worker's at-risk pass (remedy/services/at_risk_notices.py) asks every minute which of its
events were already told, by `event_id`; without an index that read scans the whole outbox,
which only grows with the delivery log.
"""

from __future__ import annotations

from alembic import op

revision = "0013w_delivery_event_index"
down_revision = "0013n_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["event_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_webhook_deliveries_event", table_name="webhook_deliveries")

"""Webhooks: a team's subscriptions and their outbox, which is also the delivery log.

An event writes one delivery row per subscription in the transaction of the event itself, so
no request ever waits on a receiver (remedy/services/notifications.py); `remedy worker` sends
them (remedy/services/webhooks.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, BigId, Timestamp, new_id, utcnow


class Webhook(Base):
    """A team's subscription: where to POST which events, signed with `secret`.

    The secret is stored as issued, not hashed: HMAC is symmetric, so signing needs the very
    bytes the receiver verifies with (as `Integration.secret`). It is shown once, at creation,
    never listed, and protected like the database (docs/webhooks.md: rotate by creating a new
    subscription, then deleting the old)."""

    __tablename__ = "webhooks"
    __table_args__ = (sa.Index("ix_webhooks_team", "team"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    team: Mapped[str] = mapped_column(sa.String(64))
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[Any]] = mapped_column()
    secret: Mapped[str] = mapped_column(sa.String(128))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class WebhookDelivery(Base):
    """The outbox and the delivery log in one: an event for one subscription, written in the
    transaction of the event, then sent by `remedy worker`: `pending` (with `next_attempt_at`),
    `delivered` (a 2xx) or `failed` (every attempt failed; redeliver to try again)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        # The at-risk pass looks its events up by id (told once per decision and reason).
        sa.Index("ix_webhook_deliveries_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(
        sa.ForeignKey("webhooks.id", name="fk_webhook_deliveries_webhook")
    )
    event_id: Mapped[str] = mapped_column(sa.String(32))
    event: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    redelivery_of: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(Timestamp)

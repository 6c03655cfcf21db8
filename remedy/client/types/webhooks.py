"""A team's webhook subscriptions and their deliveries."""

from __future__ import annotations

from typing import Any, TypedDict


class Webhook(TypedDict):
    """A team's subscription to events (never its secret)."""

    id: str
    team: str
    url: str
    events: list[str]
    active: bool
    description: str
    created_by: str
    created_at: str


class NewWebhook(Webhook):
    """A new subscription: the only time its signing secret is shown."""

    secret: str


class WebhookDelivery(TypedDict):
    """One delivery of an event to a subscription."""

    id: int
    event: str
    event_id: str
    state: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    redelivery_of: int | None
    created_at: str
    delivered_at: str | None
    payload: dict[str, Any]

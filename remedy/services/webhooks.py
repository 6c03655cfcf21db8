"""Webhooks: a team's subscriptions (CRUD, audited), here; signing and delivery from the outbox
in remedy/services/webhook_delivery.py.

Events are written to the outbox (`webhook_deliveries`) by `remedy.services.notifications.emit`
in the transaction of the event; `remedy worker` sends them here (`deliver_due`, a periodic
task), outside any transaction and any request, so a receiver that is slow or down never slows
the API. Each delivery is a POST of the event's JSON, signed:

    Remedy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

The timestamp is inside the signed bytes, so a captured request cannot be replayed later than
the receiver's tolerance (`verify` uses 5 minutes). A delivery that fails (no answer within the
timeout, a refused connection, any status but 2xx, a redirect: never followed) is tried again
after `retry_seconds x 2^(attempts-1)` (at most an hour) until `max_attempts`, then marked
failed; `redeliver` queues it again as a new delivery. Sending is at least once: a worker that
dies between sending and recording sends again, so receivers dedupe on `Remedy-Delivery`.

The secret is stored as issued, not hashed (remedy/store/tables/webhooks.py): HMAC is
symmetric, so signing needs the very bytes the receiver checks with. Hashing it would make
signing impossible; encrypting it with a key kept beside the database would protect nothing the
database's own protection does not. It is shown once, when created, and never listed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.services.keys import Principal
from remedy.services.notifications import EVENTS, PENDING
from remedy.store import audit
from remedy.store.scoping import in_team
from remedy.store.tables import Webhook, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

DELIVERED, FAILED = "delivered", "failed"
MAX_URL = 2000
MAX_PER_TEAM = 20  # subscriptions one team may have (each event is sent to every one)


# -- signing ---------------------------------------------------------------------------------


# -- subscriptions ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    """Refuse (422 naming `url`) anything but an http(s) URL with a host and no credentials."""
    message = None
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if parts is None:
        message = f"at most {MAX_URL} characters"
    elif parts.scheme not in ("http", "https"):
        message = "must be an http or https URL"
    elif not parts.hostname:
        message = "must name a host"
    elif parts.username or parts.password:
        message = "must not carry credentials (the signature authenticates us)"
    if message:
        raise InvalidInput(f"url {message}", {"url": [message]})
    return url


def check_events(events: list[str]) -> list[str]:
    """Refuse (422 naming `events`) an empty list or an unknown event; return them deduplicated."""
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        message = f"unknown event(s) {unknown}; " if unknown else "name at least one event; "
        message += f"events: {', '.join(EVENTS)}"
        raise InvalidInput(message, {"events": [message]})
    return sorted(set(events))


def _view(hook: Webhook) -> dict[str, Any]:
    """A subscription as the audit log keeps it (never its secret)."""
    return {
        "team": hook.team,
        "url": hook.url,
        "events": list(hook.events),
        "active": hook.active,
        "description": hook.description,
    }


class WebhookService:
    """Creates, lists, changes and deletes subscriptions; reads and redelivers deliveries."""

    def __init__(self, session: Session) -> None:
        """Work in `session` (the caller commits)."""
        self.session = session

    def create(
        self, team: str, url: str, events: list[str], description: str, actor: str
    ) -> tuple[str, Webhook]:
        """Subscribe `team`; return the secret (shown once) and the row."""
        check_url(url)
        events = check_events(events)
        count = self.session.scalar(
            sa.select(sa.func.count())
            .select_from(Webhook)
            .where(Webhook.team == team, Webhook.deleted_at.is_(None))
        )
        if (count or 0) >= MAX_PER_TEAM:
            message = f"team {team!r} has {count} webhooks, its most; delete one first"
            raise Conflict(message, {"team": [message]})
        secret = f"whsec_{secrets.token_urlsafe(32)}"
        hook = Webhook(
            team=team,
            url=url,
            events=events,
            secret=secret,
            active=True,
            description=description,
            created_by=actor,
            created_at=utcnow(),
        )
        self.session.add(hook)
        self.session.flush()
        audit.record(self.session, actor, "create", "webhook", hook.id, None, _view(hook))
        return secret, hook

    def list(self, principal: Principal, limit: int = 100) -> list[Webhook]:
        """The subscriptions `principal` sees (a scoped key: its team's), newest first."""
        return list(
            self.session.scalars(
                sa.select(Webhook)
                .where(Webhook.deleted_at.is_(None), in_team(principal.team, Webhook.team))
                .order_by(Webhook.created_at.desc(), Webhook.id)
                .limit(limit)
            )
        )

    def get(self, webhook_id: str, principal: Principal) -> Webhook:
        """One subscription `principal` sees; another team's is 404 as if it did not exist."""
        hook = self.session.get(Webhook, webhook_id)
        if hook is None or hook.deleted_at is not None or not principal.sees(hook.team):
            raise NotFound(f"no webhook {webhook_id!r}")
        return hook

    def update(self, webhook_id: str, principal: Principal, changes: Mapping[str, Any]) -> Webhook:
        """Change a subscription's url, events, active or description (audited)."""
        hook = self.get(webhook_id, principal)
        before = _view(hook)
        if "url" in changes:
            hook.url = check_url(changes["url"])
        if "events" in changes:
            hook.events = check_events(changes["events"])
        if "active" in changes:
            hook.active = bool(changes["active"])
        if "description" in changes:
            hook.description = changes["description"]
        audit.record(
            self.session, principal.prefix, "update", "webhook", hook.id, before, _view(hook)
        )
        return hook

    def delete(self, webhook_id: str, principal: Principal) -> None:
        """Delete a subscription: nothing more is queued or sent to it; its log stays."""
        hook = self.get(webhook_id, principal)
        before = _view(hook)
        hook.deleted_at = utcnow()
        hook.active = False
        self.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == hook.id, WebhookDelivery.state == PENDING)
            .values(state=FAILED, last_error="the webhook was deleted", next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        audit.record(self.session, principal.prefix, "delete", "webhook", hook.id, before, None)

    def deliveries(
        self, webhook_id: str, principal: Principal, limit: int, before: int | None = None
    ) -> list[WebhookDelivery]:
        """The subscription's deliveries, newest first (`before`: older than this id)."""
        hook = self.get(webhook_id, principal)
        statement = sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        return list(
            self.session.scalars(statement.order_by(WebhookDelivery.id.desc()).limit(limit))
        )

    def redeliver(self, webhook_id: str, delivery_id: int, principal: Principal) -> WebhookDelivery:
        """Queue a delivery again, as a new delivery of the same event (the log keeps both)."""
        hook = self.get(webhook_id, principal)
        old = self.session.get(WebhookDelivery, delivery_id)
        if old is None or old.webhook_id != hook.id:
            raise NotFound(f"no delivery {delivery_id!r} of webhook {webhook_id!r}")
        now = utcnow()
        again = WebhookDelivery(
            webhook_id=hook.id,
            event_id=old.event_id,
            event=old.event,
            payload=old.payload,
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            redelivery_of=old.id,
            created_at=now,
        )
        self.session.add(again)
        self.session.flush()
        audit.record(
            self.session,
            principal.prefix,
            "redeliver",
            "webhook",
            hook.id,
            {"delivery": old.id},
            {"delivery": again.id},
        )
        return again


# -- delivery --------------------------------------------------------------------------------

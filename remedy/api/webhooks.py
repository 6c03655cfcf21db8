"""/v1/webhooks: a team's subscriptions to events (lead of the team, finance, admin), their
delivery log and redelivery. Signing and sending: remedy/services/webhooks.py; the events and
who emits them: remedy/services/notifications.py; wiring one to a chat: docs/webhooks.md."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.hardening import no_store
from remedy.api.schemas import SLUG
from remedy.extensions import session
from remedy.services.notifications import EVENTS
from remedy.services.webhooks import MAX_URL, WebhookService
from remedy.store.tables import Webhook, WebhookDelivery

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/v1",
    description="Signed webhooks: a team's subscriptions, their deliveries and redelivery",
)
WHO = ("lead", "finance")
EVENT = fields.String(validate=validate.OneOf(EVENTS), metadata={"enum": list(EVENTS)})
# http(s), a host (no credentials: no `@` before the path), an optional port and a path of
# printable ASCII (as sent on the wire; one pattern that reads alike in Python and JSON Schema).
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$"
URL_CHECKS = [
    validate.Length(min=1, max=MAX_URL),
    validate.Regexp(URL_PATTERN, error="must be an http or https URL with a host"),
]


class WebhookRequestSchema(Schema):
    """A subscription to create."""

    url = fields.String(
        required=True,
        validate=URL_CHECKS,
        metadata={"description": "http(s) only; redirects are never followed"},
    )
    events = fields.List(EVENT, required=True, validate=validate.Length(min=1, max=len(EVENTS)))
    team = fields.String(load_default=None, validate=SLUG)
    description = fields.String(load_default="", validate=validate.Length(max=200))


class WebhookUpdateSchema(Schema):
    """What to change (only the fields given)."""

    url = fields.String(validate=URL_CHECKS)
    events = fields.List(EVENT, validate=validate.Length(min=1, max=len(EVENTS)))
    active = fields.Boolean()
    description = fields.String(validate=validate.Length(max=200))


class WebhookSchema(Schema):
    """A subscription as listed (never its secret)."""

    id = fields.String()
    team = fields.String()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    description = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


class NewWebhookSchema(WebhookSchema):
    """A new subscription: the only time its secret is shown."""

    secret = fields.String(
        metadata={
            "description": "the HMAC-SHA256 key deliveries are signed with (Remedy-Signature); "
            "shown once"
        }
    )


class WebhookListSchema(Schema):
    """The subscriptions the caller sees."""

    webhooks = fields.List(fields.Nested(WebhookSchema))


class DeliverySchema(Schema):
    """One delivery: the event sent, where it stands, what the receiver last answered."""

    id = fields.Integer()
    event = fields.String()
    event_id = fields.String()
    state = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    redelivery_of = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    payload = fields.Dict(metadata={"description": "the event as sent (the signed body)"})


class DeliveryListSchema(Schema):
    """A page of deliveries, newest first."""

    deliveries = fields.List(fields.Nested(DeliverySchema))


class DeliveryQuerySchema(Schema):
    """How many, and older than which delivery."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**62))


WEBHOOK_PATH = {"in": "path", "name": "webhook_id", "schema": {"type": "string"}}
DELIVERY_PATH = {"in": "path", "name": "delivery_id", "schema": {"type": "integer"}}


def _hook(hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "team": hook.team,
        "url": hook.url,
        "events": list(hook.events),
        "active": hook.active,
        "description": hook.description,
        "created_by": hook.created_by,
        "created_at": hook.created_at,
    }


def _delivery(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "event": row.event,
        "event_id": row.event_id,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "redelivery_of": row.redelivery_of,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
        "payload": row.payload,
    }


@blp.route("/webhooks")
class Webhooks(MethodView):
    """Create and list subscriptions."""

    @roles(*WHO)
    @blp.response(200, WebhookListSchema)
    def get(self) -> dict[str, Any]:
        """The subscriptions (a team-scoped key: its team's), newest first."""
        hooks = WebhookService(session()).list(current_principal())
        return {"webhooks": [_hook(hook) for hook in hooks]}

    @roles(*WHO)
    @no_store
    @blp.arguments(WebhookRequestSchema)
    @blp.response(201, NewWebhookSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Subscribe a team (the key's own when scoped) to events; the answer holds the
        signing secret, shown this once (audited, without it)."""
        principal = current_principal()
        team = principal.team_for(data["team"])
        secret, hook = WebhookService(session()).create(
            team, data["url"], data["events"], data["description"], principal.prefix
        )
        return {**_hook(hook), "secret": secret}


@blp.route("/webhooks/<webhook_id>", parameters=[WEBHOOK_PATH])
class WebhookOne(MethodView):
    """One subscription."""

    @roles(*WHO)
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id: str) -> dict[str, Any]:
        """The subscription (never its secret)."""
        return _hook(WebhookService(session()).get(webhook_id, current_principal()))

    @roles(*WHO)
    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, data: dict[str, Any], webhook_id: str) -> dict[str, Any]:
        """Change its url, events, description, or pause it (`active`: false); audited."""
        hook = WebhookService(session()).update(webhook_id, current_principal(), data)
        return _hook(hook)

    @roles(*WHO)
    @blp.response(204)
    def delete(self, webhook_id: str) -> None:
        """Delete it: nothing more is sent to it (pending deliveries fail); audited."""
        WebhookService(session()).delete(webhook_id, current_principal())


@blp.route("/webhooks/<webhook_id>/deliveries", parameters=[WEBHOOK_PATH])
class Deliveries(MethodView):
    """A subscription's delivery log."""

    @roles(*WHO)
    @blp.arguments(DeliveryQuerySchema, location="query")
    @blp.response(200, DeliveryListSchema)
    def get(self, query: dict[str, Any], webhook_id: str) -> dict[str, Any]:
        """Its deliveries, newest first (`before` a delivery id, at most `limit`): the event,
        attempts, the receiver's last status or error, and when it was delivered."""
        rows = WebhookService(session()).deliveries(
            webhook_id, current_principal(), query["limit"], query["before"]
        )
        return {"deliveries": [_delivery(row) for row in rows]}


@blp.route(
    "/webhooks/<webhook_id>/deliveries/<delivery_id>/redeliver",
    parameters=[WEBHOOK_PATH, DELIVERY_PATH],
)
class Redeliver(MethodView):
    """Send a delivery again."""

    @roles(*WHO)
    @blp.response(202, DeliverySchema)
    def post(self, webhook_id: str, delivery_id: str) -> dict[str, Any]:
        """Queue the same event again as a new delivery (the worker sends it within a
        second or so; the log keeps both); audited."""
        number = int(delivery_id) if delivery_id.isdigit() and len(delivery_id) < 19 else 0
        row = WebhookService(session()).redeliver(webhook_id, number, current_principal())
        return _delivery(row)

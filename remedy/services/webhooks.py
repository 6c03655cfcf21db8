"""Webhooks: a team's subscriptions (CRUD, audited), signing, and delivery from the outbox.

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

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.keys import Principal
from remedy.services.notifications import EVENTS, PENDING
from remedy.store import audit
from remedy.store.scoping import in_team
from remedy.store.session import begin_write
from remedy.store.tables import Webhook, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

DELIVERED, FAILED = "delivered", "failed"
MAX_URL = 2000
MAX_PER_TEAM = 20  # subscriptions one team may have (each event is sent to every one)
SIGNATURE_HEADER = "Remedy-Signature"
TOLERANCE_SECONDS = 300
BATCH = 20  # deliveries one pass sends
SENDERS = 4  # sent at once, each bounded by the timeout
DELIVER_EVERY = timedelta(seconds=1)
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are sent: the timeout of one POST, the first retry's delay (doubling),
    how many attempts before a delivery is failed, and whether receivers on private addresses
    are allowed (REMEDY_WEBHOOK_*)."""

    timeout: float = 5.0
    retry_seconds: float = 30.0
    max_attempts: int = 8
    allow_private: bool = False

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> DeliverySettings:
        """Read them from the app's settings."""
        return cls(
            float(config.get("WEBHOOK_TIMEOUT_SECONDS", 5)),
            float(config.get("WEBHOOK_RETRY_SECONDS", 30)),
            int(config.get("WEBHOOK_MAX_ATTEMPTS", 8)),
            bool(config.get("WEBHOOK_ALLOW_PRIVATE", False)),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next attempt after `attempts` failed ones."""
        seconds = min(MAX_BACKOFF_SECONDS, self.retry_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds)


# -- signing ---------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The `Remedy-Signature` header's value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """Tell whether `header` signs `body` with `secret` within `tolerance` seconds of `now`
    (what a receiver does; docs/webhooks.md)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def body_of(payload: dict[str, Any]) -> bytes:
    """The bytes a delivery sends (and signs): compact JSON, keys sorted."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: a receiver that moved must be updated by its owner, and a
    redirect must not turn a delivery into a request to somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Refuse (urllib then raises the 3xx as an HTTPError)."""
        return None


# No proxies from the environment: deliveries go straight to the URL their team gave.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


@dataclass(frozen=True)
class Sent:
    """What one attempt got: the HTTP status (None: no answer) and the error, if any."""

    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def private_address(url: str) -> str | None:
    """The first address `url`'s host resolves to that is not a public one (loopback,
    private, link-local, shared, reserved, multicast), else None.

    A team's key chooses the URL, and the worker sends from inside the network: without this a
    lead could make the worker POST to the database's host, a cloud metadata address or an
    admin port (server-side request forgery). A host that does not resolve is left to the send,
    which fails with its own error. The check resolves once before the send; a name that
    resolves differently a moment later (DNS rebinding) is outside it, so deployments that need
    more put the worker behind an egress proxy or firewall.
    """
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def send(
    url: str,
    secret: str,
    delivery_id: int,
    event: str,
    body: bytes,
    timeout: float,
    allow_private: bool = False,
) -> Sent:
    """POST one signed delivery; never raises. A receiver on a private address is refused
    unless `allow_private` (REMEDY_WEBHOOK_ALLOW_PRIVATE)."""
    if urlsplit(url).scheme not in ("http", "https"):  # checked when stored; never file: here
        return Sent(None, "not an http or https URL")
    if not allow_private:
        address = private_address(url)
        if address is not None:
            why = f"refused: the host resolves to {address}, not a public address"
            return Sent(None, why + " (REMEDY_WEBHOOK_ALLOW_PRIVATE=1 allows it)")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked just above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "remedy-webhooks/1",
            "Remedy-Event": event,
            "Remedy-Delivery": str(delivery_id),
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            answer.read(1024)
            return Sent(answer.status, None)
    except urllib.error.HTTPError as error:
        why = "a redirect (never followed)" if 300 <= error.code < 400 else f"HTTP {error.code}"
        return Sent(error.code, why)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return Sent(None, f"{type(error).__name__}: {reason}"[:500])


def deliver_due(session: Session, settings: DeliverySettings, now: datetime | None = None) -> int:
    """Send up to `BATCH` due deliveries; return how many were attempted.

    Three short transactions and no lock held while sending: claim (each due row's next
    attempt moved past the timeout, attempts counted, guarded so two workers never claim the
    same row), send (in `SENDERS` threads, each bounded by the timeout), record.
    """
    now = now or utcnow()
    due = session.execute(
        sa.select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.state == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            Webhook.active.is_(True),  # a paused webhook's deliveries wait for its resumption
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(BATCH)
    ).all()
    session.rollback()  # end the read: nothing is held while deciding what to claim
    if not due:
        return 0
    begin_write(session)
    claimed: list[tuple[int, str, str, str, dict[str, Any], int]] = []
    hold = timedelta(seconds=settings.timeout + 30)
    for delivery_id, next_at in due:
        changed = session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.state == PENDING,
                WebhookDelivery.next_attempt_at == next_at,
            )
            .values(next_attempt_at=now + hold, attempts=WebhookDelivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:
            continue
        row = session.execute(
            sa.select(
                WebhookDelivery.id,
                Webhook.url,
                Webhook.secret,
                WebhookDelivery.event,
                WebhookDelivery.payload,
                WebhookDelivery.attempts,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        ).one()
        claimed.append(tuple(row))  # type: ignore[arg-type]
    session.commit()
    if not claimed:
        return 0
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(claimed))) as pool:
        results = list(
            pool.map(
                lambda c: send(
                    c[1], c[2], c[0], c[3], body_of(c[4]), settings.timeout, settings.allow_private
                ),
                claimed,
            )
        )
    begin_write(session)
    finished = utcnow()
    for (delivery_id, _url, _secret, _event, _payload, attempts), sent in zip(
        claimed, results, strict=True
    ):
        values: dict[str, Any] = {"last_status": sent.status, "last_error": sent.error}
        if sent.ok:
            values.update(state=DELIVERED, delivered_at=finished, next_attempt_at=None)
        elif attempts >= settings.max_attempts:
            values.update(state=FAILED, next_attempt_at=None)
        else:
            values.update(next_attempt_at=finished + settings.backoff(attempts))
        session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.state == PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return len(claimed)


def deliver(context: TaskContext) -> str:
    """The worker's periodic task: send what is due."""
    sent = deliver_due(context.session, DeliverySettings.of(context.config))
    return f"sent {sent} webhook deliveries" if sent else ""  # every second: quiet when idle


def register_jobs(registry: JobRegistry) -> None:
    """Register the delivery of webhooks: every worker sends what is due, every second."""
    registry.periodic("webhooks.deliver", DELIVER_EVERY, deliver)

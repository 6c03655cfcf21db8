"""Webhook delivery: signing, sending and retrying what the outbox holds (`remedy worker`'s
periodic task), outside any transaction and any request, so a receiver that is slow or down
never slows the API. Why it signs as it does, retries as it does and stores the secret as
issued: remedy/services/webhooks.py."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
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

from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.notifications import PENDING
from remedy.services.webhooks import DELIVERED, FAILED
from remedy.store.session import begin_write
from remedy.store.tables import Webhook, WebhookDelivery, utcnow

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

"""Notifications: the one place an event is emitted, into the webhooks' outbox.

`emit(session, event, team, data)` writes one `WebhookDelivery` row for each of the team's
active subscriptions to `event`, in the caller's transaction: the event and its notification
commit together or not at all, and nothing is sent here. `remedy worker` sends the rows
(remedy/services/webhooks.py), so a receiver that is slow or down never slows an API request,
and an event whose transaction rolled back is never told.

Events (`EVENTS`) and who emits them:
- `approval.requested`: a plan or an overage was sent to a lead's or finance's queue
  (services/approvals.py, `ApprovalService.request`);
- `approval.escalated`: a request waited past `escalate_after` and finance was added
  (`ApprovalService.escalate_due`, the worker's periodic task);
- `promise.broken`: an outcome says the answer or the fix came after its promised time
  (services/outcomes.py);
- `mass_incident.ready`: every customer of a mass incident was decided and its total waits
  for approval (services/mass_incidents.py);
- `incident.at_risk`: an incident newly at risk (a fix overdue or near, an apology-only answer,
  an approval waiting against the promise), found by the worker's pass every minute over each
  subscribed team (services/at_risk_notices.py), told once per decision and reason.

The payload is data, never sentences (codes, ids, money as decimal strings with their
currency): a receiver renders it for its readers (docs/webhooks.md has a chat relay).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.moments import iso_utc
from remedy.store.tables import Webhook, WebhookDelivery, new_id, utcnow

APPROVAL_REQUESTED = "approval.requested"
APPROVAL_ESCALATED = "approval.escalated"
INCIDENT_AT_RISK = "incident.at_risk"
PROMISE_BROKEN = "promise.broken"
MASS_INCIDENT_READY = "mass_incident.ready"
EVENTS = (
    APPROVAL_REQUESTED,
    APPROVAL_ESCALATED,
    INCIDENT_AT_RISK,
    PROMISE_BROKEN,
    MASS_INCIDENT_READY,
)
PENDING = "pending"


def emit(
    session: Session,
    event: str,
    team: str,
    data: dict[str, Any],
    at: datetime | None = None,
    event_id: str | None = None,
) -> int:
    """Queue `event` about `team` for every active subscription of the team to it; return how
    many deliveries were queued. Written in the caller's transaction; sent by the worker.
    `event_id` names an event a periodic pass finds again and again (one id per finding), so
    a receiver can tell a repeat; by default each event gets a new id."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; events: {EVENTS}")
    hooks = session.scalars(
        sa.select(Webhook).where(
            Webhook.team == team, Webhook.active.is_(True), Webhook.deleted_at.is_(None)
        )
    ).all()
    subscribed = [hook for hook in hooks if event in (hook.events or [])]
    if not subscribed:
        return 0
    now = at or utcnow()
    event_id = event_id or new_id()
    payload = {
        "id": event_id,
        "type": event,
        "created_at": iso_utc(now),
        "team": team,
        "data": data,
    }
    for hook in subscribed:
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event_id=event_id,
                event=event,
                payload=payload,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(subscribed)

"""`incident.at_risk`: the worker tells each subscribed team of incidents newly at risk.

Every minute a worker reads the at-risk list (remedy/services/at_risk.py) of each team with an
active subscription to the event, as that team's lead reads it, and emits one event per
decision and most pressing reason not told before: the event's id is derived from the two
(`at-risk-<hash>`), and an id already in the outbox is not emitted again, so a fix that stays
overdue is told once, and told again only when its reason changes (near -> overdue). Two
workers passing at the same moment may both tell it (at least once, as every webhook is): the
receiver deduplicates by the event's `id`. The payload is data: codes and their facts, ids,
times; a receiver says them in its readers' language.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import ApprovalTiers
from remedy.moments import iso_utc
from remedy.services.at_risk import AtRisk, AtRiskService, AtRiskSettings
from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.keys import Principal
from remedy.services.notifications import INCIDENT_AT_RISK, emit
from remedy.store.tables import Webhook, WebhookDelivery

NOTIFY_EVERY = timedelta(minutes=1)
PER_TEAM = 100  # the most urgent rows told per team and pass (the list's own bound)


def event_id(decision_id: str, reason: str) -> str:
    """The one id of 'this decision is at risk for this reason' (32 characters)."""
    digest = hashlib.sha256(f"{decision_id}:{reason}".encode()).hexdigest()
    return f"at-risk-{digest[:24]}"


def subscribed_teams(session: Session) -> list[str]:
    """Teams with an active subscription to `incident.at_risk`."""
    rows = session.execute(
        sa.select(Webhook.team, Webhook.events).where(
            Webhook.active.is_(True), Webhook.deleted_at.is_(None)
        )
    )
    return sorted({team for team, events in rows if INCIDENT_AT_RISK in (events or [])})


def notify_at_risk(session: Session, tiers: ApprovalTiers, settings: AtRiskSettings) -> int:
    """Emit `incident.at_risk` for what is newly at risk in each subscribed team; return how
    many events were emitted (in the caller's transaction)."""
    told = 0
    for team in subscribed_teams(session):
        reader = Principal("at-risk-notices", "lead", team)
        rows = AtRiskService(session, tiers, settings).at_risk(reader, PER_TEAM).rows
        found = {event_id(row.decision.id, row.reasons[0].code): row for row in rows if row.reasons}
        if not found:
            continue
        known = set(
            session.scalars(
                sa.select(WebhookDelivery.event_id).where(WebhookDelivery.event_id.in_(found))
            )
        )
        for key, row in found.items():
            if key not in known:
                told += bool(emit(session, INCIDENT_AT_RISK, team, payload(row), event_id=key))
    return told


def payload(row: AtRisk) -> dict[str, Any]:
    """The event's data: which decision, why (codes and facts), and its deadlines."""
    decision = row.decision
    return {
        "decision_id": decision.id,
        "customer_id": decision.customer_id,
        "external_id": decision.external_id,
        "status": decision.status,
        "reason_codes": [reason.code for reason in row.reasons],
        "reasons": [reason.to_json() for reason in row.reasons],
        "fix_by": iso_utc(row.deadlines.fix_by) if row.deadlines.fix_by else None,
    }


def notify(context: TaskContext) -> str:
    """The worker's periodic task: tell subscribed teams what is newly at risk."""
    if context.services is None:
        raise RuntimeError("the at-risk pass needs the app's services (the active caps)")
    tiers = context.services.engines.engine(context.session).caps.approvals
    told = notify_at_risk(context.session, tiers, AtRiskSettings.from_config(context.config))
    return f"told {told} incident(s) at risk" if told else ""  # quiet when nothing is new


def register_jobs(registry: JobRegistry) -> None:
    """Register the at-risk pass: every worker looks every minute."""
    registry.periodic("at_risk.notify", NOTIFY_EVERY, notify)

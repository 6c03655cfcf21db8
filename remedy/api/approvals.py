"""GET /v1/approvals: the caller's approval queue, oldest first, with how long each plan waits.

Approve and reject are the decision's own steps (POST /v1/decisions/<id>/approve, /reject in
api/lifecycle.py); the agent reads the outcome in GET /v1/decisions/<id> (`approval`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.fields import MinorAmount
from remedy.api.reading import current_reader
from remedy.decisions.deadlines import deadlines
from remedy.decisions.record import DecisionRecord, DecisionStatus
from remedy.extensions import session
from remedy.moments import as_utc, iso_utc
from remedy.money import from_minor
from remedy.presenting import presenters
from remedy.services import app_services
from remedy.services.approval_standing import PENDING, QueueEntry, standing_fact
from remedy.services.approvals import SCOPES, ApprovalService
from remedy.store.tables import Decision

blp = Blueprint(
    "approvals", __name__, url_prefix="/v1", description="Approval queues of leads and finance"
)


class QueueQuerySchema(Schema):
    """Which part of the queue."""

    scope = fields.String(
        load_default="mine",
        validate=validate.OneOf(SCOPES),
        metadata={
            "description": "mine: what the caller's tier decides now (a lead: its team's lead "
            "tier; finance: the finance tier, escalated plans included); all: every tier the "
            "caller may decide"
        },
    )

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "the oldest this many (the queue's head)"},
    )


class QueueEntrySchema(Schema):
    """One pending plan or overage (dumps a `QueueEntry`)."""

    request_id = fields.String(attribute="request.id")
    decision_id = fields.String(attribute="request.decision_id")
    kind = fields.String(attribute="request.kind", metadata={"description": "plan or overage"})
    team = fields.String(attribute="request.team")
    currency = fields.String(attribute="request.currency")
    amount = MinorAmount(attribute="request.amount_minor")
    tier = fields.String(
        metadata={
            "description": "the highest tier that decides it now: lead or finance (an overdue "
            "lead request: finance, and the lead may still answer it)"
        }
    )
    requested_tier = fields.String(attribute="request.requested_tier")
    escalated = fields.Boolean(
        metadata={"description": "it waited past escalate_after: finance decides it too"}
    )
    escalation_due = fields.Boolean(
        metadata={
            "description": "overdue, its escalation not yet recorded (the worker or "
            "`remedy approvals escalate` records it; reads never write)"
        }
    )
    escalated_at = fields.Function(lambda e: iso_utc(e.escalated_at))
    requested_at = fields.Function(lambda e: iso_utc(e.request.requested_at))
    requested_by = fields.String(attribute="request.requested_by")
    waiting_seconds = fields.Integer()
    fix_by = fields.Function(
        lambda e: _iso(fix_by(e.decision)),
        metadata={"description": "when the fix is promised (ISO 8601, UTC; null: none)"},
    )
    fix_seconds_left = fields.Function(
        lambda e: _seconds_left(fix_by(e.decision), _counted_at(e)),
        metadata={
            "description": "seconds until fix_by as waiting_seconds counts, negative when the "
            "fix is already overdue (null when no fix is promised)"
        },
    )
    plan_id = fields.String(attribute="decision.accepted_plan_id")
    actions = fields.Function(
        lambda e: _plan_labels(e),
        metadata={"description": "the plan's actions by their labels"},
    )
    incident = fields.Function(
        lambda e: _incident(e),
        metadata={
            "description": "what an approver weighs: the customer, the loss, the customer's "
            "value, whether they threaten to leave (`churn_threat`), how public the complaint "
            "is (`public`, `reach`) and how often we failed them before (`prior_incidents`)"
        },
    )
    why_codes = fields.Function(
        lambda e: [reason.to_json() for reason in e.why],
        metadata={
            "description": "why it needs approval, as data (needs_lead, needs_finance, "
            "needs_approval, needs_approval_always, fix_without_approval, "
            "needs_approval_overage)"
        },
    )
    why = fields.Function(
        lambda e: _why(e), metadata={"description": "the same in the reader's language"}
    )


class QueueSchema(Schema):
    """The caller's queue."""

    as_of = fields.String(
        metadata={
            "description": "the server's time of the reading (UTC): a client counts waiting "
            "times on from it (requested_at, fix_by), whatever its own clock says"
        }
    )
    approvals = fields.List(fields.Nested(QueueEntrySchema))


def _plan_labels(entry: QueueEntry) -> list[str]:
    """The accepted plan's actions by their labels, in the reader's language."""
    record = DecisionRecord.of(entry.decision)
    candidate = record.candidate(entry.decision.accepted_plan_id or "")
    if candidate is None:
        return []
    say, _ = presenters(record, current_reader())
    return [say.label(item) for item in candidate.items]


def fix_by(decision: Decision) -> datetime | None:
    """When the decision's fix is promised (remedy/decisions/deadlines.py); None when no fix is
    promised (the customer's fault)."""
    return deadlines(decision).fix_by


def _why(entry: QueueEntry) -> list[str]:
    """Why the entry needs approval, in the reader's language."""
    say, _ = presenters(DecisionRecord.of(entry.decision), current_reader())
    return say.say_all(entry.why)


def _counted_at(entry: QueueEntry) -> datetime:
    """The moment the queue counted `waiting_seconds` at (so both figures agree)."""
    return as_utc(entry.request.requested_at) + timedelta(seconds=entry.waiting_seconds)


def _iso(moment: datetime | None) -> str | None:
    """A moment as the answer writes it."""
    return None if moment is None else moment.isoformat()


def _seconds_left(due: datetime | None, now: datetime) -> int | None:
    """Seconds from `now` until `due` (negative: overdue); None when nothing is due."""
    return None if due is None else int((due - now).total_seconds())


def _incident(entry: QueueEntry) -> dict[str, Any]:
    """What an approver needs to know of the incident."""
    incident = DecisionRecord.of(entry.decision).incident
    return {
        "customer_id": incident.customer_id,
        "external_id": incident.external_id,
        "severity": incident.severity,
        "fault_type": str(incident.fault_type),
        "category": incident.category,
        "loss_amount": str(incident.loss_amount),
        "customer_value": str(incident.customer_value),
        "reported_at": _iso(as_utc(incident.reported_at) if incident.reported_at else None),
        "churn_threat": incident.threatens_to_leave,
        "customer_status": incident.customer_status,
        "public": incident.is_public,
        "reach": incident.reach,
        "prior_incidents": incident.prior_incidents,
    }


@blp.route("/approvals")
class Approvals(MethodView):
    """The caller's approval queue."""

    @roles("lead", "finance")
    @blp.arguments(QueueQuerySchema, location="query")
    @blp.response(200, QueueSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Pending plans and overages the caller may decide, oldest first, with their waiting
        time; plans past the caps' `approvals.escalate_after` show as escalated (reading the
        queue writes nothing: the worker or `remedy approvals escalate` records escalations)."""
        db = session()
        service = ApprovalService(db, app_services.engines().engine(db).caps.approvals)
        entries = service.queue(current_principal(), query["scope"], query["limit"])
        return {"as_of": service.clock().isoformat(), "approvals": entries}


def approval_status(decision: Decision) -> dict[str, Any] | None:
    """The decision's latest approval request as the agent reads it, escalation due computed
    (not written); None when it never needed approval."""
    if decision.status == DecisionStatus.PROPOSED:
        return None
    db = session()
    tiers = app_services.engines().engine(db).caps.approvals
    service = ApprovalService(db, tiers)
    request = service.latest_for(decision.id)
    if request is None:
        return None
    standing = service.standing(request)
    now = service.clock()
    reader = current_reader()
    say, _ = presenters(DecisionRecord.of(decision), reader)
    return {
        "state": request.state,
        "kind": request.kind,
        "tier": standing.tier,
        "requested_tier": request.requested_tier,
        "escalated": standing.escalated,
        "escalation_due": standing.escalation_due,
        "requested_at": iso_utc(request.requested_at),
        "escalated_at": iso_utc(standing.escalated_at),
        "waiting_seconds": standing.waiting_seconds,
        "fix_by": _iso(fix_by(decision)),
        "fix_seconds_left": (
            _seconds_left(fix_by(decision), now) if request.state == PENDING else None
        ),
        "decided_at": iso_utc(request.decided_at),
        "decided_by": request.decided_by,
        "decided_role": request.decided_role,
        "reason": request.reason,
        "amount": str(from_minor(request.amount_minor, request.currency)),
        "currency": request.currency,
        "message": say.say(standing_fact(request, standing, tiers.escalate_after)),
    }

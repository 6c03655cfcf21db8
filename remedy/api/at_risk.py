"""GET /v1/incidents/at-risk: the incidents whose promise is about to break, most urgent first.

The service (remedy/services/at_risk.py) decides which and why, as reason codes; this view says
them in the reader's language (`reasons`, beside `reason_codes`) and adds the customer, team,
money and times a lead acts on.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.reading import current_reader
from remedy.api.schemas import FactSchema
from remedy.extensions import session
from remedy.moments import as_utc, iso_utc
from remedy.money import from_minor
from remedy.presenting import presenters
from remedy.services import app_services
from remedy.services.at_risk import AtRisk, AtRiskService, AtRiskSettings

blp = Blueprint(
    "at_risk", __name__, url_prefix="/v1", description="Incidents at risk of a broken promise"
)


class AtRiskArgs(Schema):
    """How many rows."""

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "the most urgent this many (earliest promised fix first)"},
    )


class AtRiskApprovalSchema(Schema):
    """The approval the plan waits for."""

    request_id = fields.String()
    tier = fields.String(metadata={"description": "who decides it now: lead or finance"})
    escalated = fields.Boolean()
    amount = fields.String()
    requested_at = fields.String()
    waiting_seconds = fields.Integer()


class AtRiskRowSchema(Schema):
    """One decision at risk: why, whose, how much and when."""

    decision_id = fields.String()
    team = fields.String()
    customer_id = fields.String()
    external_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "the decision's lifecycle state"})
    reason_codes = fields.List(
        fields.Nested(FactSchema),
        metadata={
            "description": "why it is at risk, as data: risk_fix_overdue, risk_fix_due_soon, "
            "risk_apology_only, risk_approval_waiting, risk_approval_past_fix, "
            "risk_approval_escalated"
        },
    )
    reasons = fields.List(fields.String(), metadata={"description": "the same, in words"})
    severity = fields.Integer()
    category = fields.String()
    currency = fields.String()
    amount = fields.String(
        allow_none=True,
        metadata={"description": "the accepted plan's cost (or the apology-only plan's)"},
    )
    plan = fields.List(fields.String(), metadata={"description": "that plan by its labels"})
    loss_amount = fields.String()
    customer_value = fields.String()
    churn_threat = fields.Boolean()
    public = fields.Boolean()
    reach = fields.Integer(allow_none=True)
    reported_at = fields.String()
    decided_at = fields.String()
    fix_by = fields.String(allow_none=True)
    fix_seconds_left = fields.Integer(
        allow_none=True, metadata={"description": "negative once the fix is overdue"}
    )
    approval = fields.Nested(AtRiskApprovalSchema, allow_none=True)


class AtRiskListSchema(Schema):
    """The rows, the moment they were read at, and whether some were left out."""

    as_of = fields.String(metadata={"description": "the server's time of the reading (UTC)"})
    truncated = fields.Boolean(
        metadata={
            "description": "more incidents are at risk than `limit` (or than one read "
            "scans): the most urgent are shown"
        }
    )
    at_risk = fields.List(fields.Nested(AtRiskRowSchema))


def settings() -> AtRiskSettings:
    """The configured thresholds (REMEDY_AT_RISK_*, checked when the app was made)."""
    return app_services.at_risk()


def _row(row: AtRisk, now: Any) -> dict[str, Any]:
    """One row as the answer writes it, said for the caller."""
    decision, incident = row.decision, row.record.incident
    say, _ = presenters(row.record, current_reader())
    plan = row.plan
    fix_by = row.deadlines.fix_by
    request, standing = row.approval, row.standing
    return {
        "decision_id": decision.id,
        "team": decision.team,
        "customer_id": decision.customer_id,
        "external_id": decision.external_id,
        "status": decision.status,
        "reason_codes": [reason.to_json() for reason in row.reasons],
        "reasons": say.say_all(row.reasons),
        "severity": incident.severity,
        "category": incident.category,
        "currency": decision.currency,
        "amount": None if plan is None else str(plan.total_cost),
        "plan": [] if plan is None else [say.label(item) for item in plan.items],
        "loss_amount": str(incident.loss_amount),
        "customer_value": str(incident.customer_value),
        "churn_threat": incident.threatens_to_leave,
        "public": incident.is_public,
        "reach": incident.reach,
        "reported_at": row.deadlines.reported_at.isoformat(),
        "decided_at": as_utc(decision.created_at).isoformat(),
        "fix_by": None if fix_by is None else fix_by.isoformat(),
        "fix_seconds_left": None if fix_by is None else int((fix_by - now).total_seconds()),
        "approval": None
        if request is None or standing is None
        else {
            "request_id": request.id,
            "tier": standing.tier,
            "escalated": standing.escalated,
            "amount": str(from_minor(request.amount_minor, request.currency)),
            "requested_at": iso_utc(request.requested_at),
            "waiting_seconds": standing.waiting_seconds,
        },
    }


@blp.route("/incidents/at-risk")
class IncidentsAtRisk(MethodView):
    """Incidents whose promise is about to break."""

    @roles("lead", "finance")
    @blp.arguments(AtRiskArgs, location="query")
    @blp.response(200, AtRiskListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Accepted plans whose fix is overdue or near (REMEDY_AT_RISK_NEAR_SHARE of the fix
        window), answers that could offer only an apology because a limit blocked the rest,
        and approvals waiting past REMEDY_AT_RISK_APPROVAL_SHARE of the time to the fix; the
        earliest promised fix first. A team-scoped key sees its own team's only."""
        db = session()
        tiers = app_services.engines().engine(db).caps.approvals
        found = AtRiskService(db, tiers, settings()).at_risk(current_principal(), args["limit"])
        return {
            "as_of": found.as_of.isoformat(),
            "truncated": found.truncated,
            "at_risk": [_row(row, found.as_of) for row in found.rows],
        }

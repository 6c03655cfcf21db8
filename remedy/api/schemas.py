"""Request and response schemas of the recommendation API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, pre_dump, validate, validates_schema

from remedy.api.fields import Amount, AmountOut, StrictBoolean, check_amounts, currency_field
from remedy.decisions.record import DecisionRecord, incident_to_json
from remedy.domain import CHANNELS, MAX_CUSTOMER_VALUE, MAX_LOSS, MAX_REACH, FaultType
from remedy.ledger.periods import as_utc

SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
SLUG = validate.Regexp(SLUG_PATTERN, error="must be a short slug")


class IncidentSchema(Schema):
    """What went wrong, for whom, and what it cost them."""

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    severity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    fault_type = fields.String(required=True, validate=validate.OneOf([f.value for f in FaultType]))
    customer_value = Amount(
        required=True,
        validate=validate.Range(min=0, max=MAX_CUSTOMER_VALUE),
        metadata={"description": "The customer's annual value"},
    )
    loss_amount = Amount(
        required=True,
        validate=validate.Range(min=0, max=MAX_LOSS, min_inclusive=False),
        metadata={"description": "What the failure cost the customer"},
    )
    currency = currency_field(required=True)
    category = fields.String(load_default="other", validate=SLUG)
    channel = fields.String(load_default="email", validate=validate.OneOf(CHANNELS))
    locale = fields.String(
        load_default="en",
        validate=validate.Regexp(r"^[a-zA-Z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="not a locale"),
    )
    churn_threat = StrictBoolean(load_default=False)
    external_id = fields.String(load_default=None, validate=validate.Length(max=128))
    public = StrictBoolean(
        load_default=False,
        metadata={"description": "seen by others (a post, a review); social and review imply it"},
    )
    reach = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_REACH),
        metadata={"description": "followers or audience of a public complaint"},
    )

    @validates_schema
    def check_precision(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse amounts with more decimals than the currency has."""
        check_amounts(data, "customer_value", "loss_amount")


class RecommendationRequestSchema(Schema):
    """POST /v1/recommendations."""

    incident = fields.Nested(IncidentSchema, required=True)
    team = fields.String(load_default=None, validate=SLUG)
    limit = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1, max=10))


class ActionSchema(Schema):
    """One action of a plan (dumps a `ShownAction`)."""

    item_id = fields.String()
    kind = fields.String(attribute="item.kind")
    level = fields.String(attribute="item.level", allow_none=True)
    label = fields.String(attribute="item.label")
    value = AmountOut(
        attribute="item.value", metadata={"description": "face value to the customer"}
    )
    cost = AmountOut(attribute="item.cost", metadata={"description": "cost to the company"})
    requires_approval = fields.Boolean(attribute="item.requires_approval")
    part = fields.String(metadata={"description": "apology, fix or overdelivery"})
    audience = fields.String(
        attribute="item.audience", metadata={"description": "customer, or companions for gifts"}
    )


class TalkingPointsSchema(Schema):
    """Prompts for the agent."""

    language = fields.String()
    respond_within = fields.String(metadata={"description": "ISO 8601 duration"})
    fix_within = fields.String(
        allow_none=True,
        metadata={"description": "ISO 8601 duration; promised when we or a partner are at fault"},
    )
    points = fields.List(fields.String())


class PlanSchema(Schema):
    """A ranked plan (dumps a `ShownPlan`)."""

    plan_id = fields.String(attribute="candidate.plan_id")
    rank = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))
    fix = fields.List(
        fields.Nested(ActionSchema), metadata={"description": "what makes the customer whole"}
    )
    overdelivery = fields.List(
        fields.Nested(ActionSchema), metadata={"description": "everything beyond the fix"}
    )
    generous = fields.Boolean(
        metadata={"description": "the most generous plan within the guardrails, shown as an option"}
    )
    currency = fields.String()
    fix_cost = AmountOut(metadata={"description": "outside the incident cap"})
    total_cost = AmountOut(attribute="candidate.total_cost")
    total_value = AmountOut(attribute="candidate.total_value")
    expected_net_value = AmountOut(attribute="candidate.expected_net_value")
    p_stay = fields.String(attribute="candidate.p_stay")
    expected_referrals = fields.String(attribute="candidate.referrals")
    requires_approval = fields.Boolean(attribute="candidate.requires_approval")
    approver = fields.String(
        attribute="candidate.approver",
        allow_none=True,
        metadata={"description": "who must approve it: lead or finance (null: nobody)"},
    )
    reasons = fields.List(fields.String(), attribute="presentation.reasons")
    rules = fields.List(fields.String())
    talking_points = fields.Nested(
        TalkingPointsSchema, attribute="presentation.talking_points", allow_none=True
    )


class DroppedPlanSchema(Schema):
    """A better-scoring plan the guardrails removed (dumps a `StoredCandidate`)."""

    plan_id = fields.String()
    total_cost = AmountOut()
    expected_net_value = AmountOut()
    reason = fields.String(attribute="dropped_reason")


class CapSchema(Schema):
    """The per-incident cap and how it was set (dumps a `StoredCap`)."""

    amount = AmountOut()
    currency = fields.String()
    binding = fields.String()
    terms = fields.Dict(keys=fields.String(), values=AmountOut())
    factor = fields.String()
    approval_threshold = AmountOut()


class ApprovalStatusSchema(Schema):
    """Where a decision's latest approval request stands, for the agent who waits on it."""

    state = fields.String(
        metadata={"description": "pending, approved, rejected, cancelled or expired"}
    )
    kind = fields.String(metadata={"description": "plan or overage"})
    tier = fields.String(metadata={"description": "who decides it (now): lead or finance"})
    requested_tier = fields.String()
    escalated = fields.Boolean()
    requested_at = fields.String()
    escalated_at = fields.String(allow_none=True)
    waiting_seconds = fields.Integer(allow_none=True, metadata={"description": "while pending"})
    decided_at = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True, metadata={"description": "the key's prefix"})
    decided_role = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    amount = fields.String()
    currency = fields.String()
    message = fields.String(metadata={"description": "the state in the decision's language"})


@dataclass(frozen=True)
class WithApproval:
    """A stored decision with its approval status (GET /v1/decisions/<id>)."""

    decision: Any
    approval: dict[str, Any] | None


class DecisionSchema(Schema):
    """A recommendation as decided and stored (dumps a stored `Decision` row)."""

    decision_id = fields.String(attribute="id")
    created_at = fields.DateTime()
    status = fields.String()
    incident = fields.Dict()
    team = fields.String()
    currency = fields.String()
    language = fields.String(
        metadata={
            "description": "The language of labels, reasons, notes and talking points: the "
            "customer's, or en when it has no catalog (a note then says so)"
        }
    )
    plans = fields.List(fields.Nested(PlanSchema))
    dropped = fields.List(fields.Nested(DroppedPlanSchema))
    candidates_considered = fields.Integer()
    caps = fields.Nested(CapSchema)
    fired_rules = fields.List(fields.String())
    excluded_items = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.List(fields.String())
    versions = fields.Dict(keys=fields.String(), values=fields.String())
    propensity = fields.String()
    approval = fields.Nested(
        ApprovalStatusSchema,
        allow_none=True,
        metadata={"description": "the latest approval request: who decides, who decided, why"},
    )

    @pre_dump
    def read_record(self, decision: Any, **kwargs: Any) -> dict[str, Any]:
        """Read the row's typed record; the fields above pick what the answer shows."""
        approval = None
        if isinstance(decision, WithApproval):
            decision, approval = decision.decision, decision.approval
        record = DecisionRecord.of(decision)
        return {
            "id": decision.id,
            "created_at": as_utc(decision.created_at),
            "status": decision.status,
            "incident": incident_to_json(record.incident),
            "team": decision.team,
            "currency": decision.currency,
            "language": record.language,
            "plans": record.shown_plans(),
            "dropped": record.dropped_above_shown(),
            "candidates_considered": len(record.candidates),
            "caps": record.cap,
            "fired_rules": record.fired_rules,
            "excluded_items": record.excluded_items,
            "notes": record.notes,
            "versions": {
                "catalog": str(decision.catalog_version),
                "rules": str(decision.rules_version),
                "caps": str(decision.caps_version),
                "model": decision.model_version,
            },
            "propensity": decision.propensity,
            "approval": approval,
        }

"""Request and response schemas of the recommendation API."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from remedy.api.fields import (
    Amount,
    AmountOut,
    StrictBoolean,
    UtcDateTime,
    check_amounts,
    currency_field,
)
from remedy.domain import (
    CHANNELS,
    CUSTOMER_STATUSES,
    MAX_CUSTOMER_VALUE,
    MAX_LOSS,
    MAX_REACH,
    FaultType,
)

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
        validate=validate.Range(min=0, max=MAX_LOSS),
        metadata={
            "description": "What the failure cost the customer; 0 when nothing was lost "
            "(rudeness, a broken promise, a wrong-language page): gestures are then sized on "
            "the caps' no_loss_basis and the severity"
        },
    )
    currency = currency_field(required=True)
    category = fields.String(load_default="other", validate=SLUG)
    channel = fields.String(load_default="email", validate=validate.OneOf(CHANNELS))
    locale = fields.String(
        load_default="en",
        validate=validate.Regexp(r"^[a-zA-Z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="not a locale"),
    )
    churn_threat = StrictBoolean(load_default=False)
    customer_status = fields.String(
        load_default="active",
        validate=validate.OneOf(CUSTOMER_STATUSES),
        metadata={
            "description": "active; leaving (said they will leave: implies churn_threat); left "
            "(already gone: money back to their payment method, never credit, and a senior "
            "person goes to bat)"
        },
    )
    external_id = fields.String(load_default=None, validate=validate.Length(max=128))
    touchpoint = fields.String(
        load_default=None,
        allow_none=True,
        validate=SLUG,
        metadata={
            "description": "where the failure happened: a touchpoint of the catalog's closed "
            "vocabulary (sign_in_page, billing_run, courier, app_release, ...); unknown is 422 "
            "listing the known ones"
        },
    )
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
    reported_at = UtcDateTime(
        load_default=None,
        metadata={
            "description": "when the customer first complained (ISO 8601 with a zone; default: "
            "now). The promises count from it; at most 5 minutes ahead of our clock and 90 "
            "days old"
        },
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


class FactSchema(Schema):
    """A fact as data: its code and typed parameters (money as {"money": [amount, currency]},
    catalog items as {"item": id}, contact levels as {"level": ...}, durations as
    {"seconds": n}, shares, numbers, lists ({"many": [...]}) and nested facts ({"fact": ...}))."""

    code = fields.String()
    params = fields.Dict(keys=fields.String(), values=fields.Raw())


class ActionSchema(Schema):
    """One action of a plan."""

    item_id = fields.String()
    kind = fields.String()
    level = fields.String(allow_none=True)
    label = fields.String(metadata={"description": "in the reader's language"})
    value = AmountOut(metadata={"description": "face value to the customer"})
    cost = AmountOut(metadata={"description": "cost to the company"})
    requires_approval = fields.Boolean()
    part = fields.String(metadata={"description": "apology, fix or overdelivery"})
    audience = fields.String(metadata={"description": "customer, or companions for gifts"})


class TalkingPointsSchema(Schema):
    """Prompts for the agent, in the customer's language."""

    language = fields.String(
        metadata={"description": "the customer's language (a BCP 47 tag: 'de', 'pt-PT', 'pt-BR')"}
    )
    respond_within = fields.String(metadata={"description": "ISO 8601 duration"})
    fix_within = fields.String(
        allow_none=True,
        metadata={"description": "ISO 8601 duration; promised when we or a partner are at fault"},
    )
    respond_by = fields.String(
        allow_none=True,
        metadata={
            "description": "when the answer is due: reported_at + respond_within (ISO 8601, "
            "UTC; null in decisions made before it was recorded)"
        },
    )
    fix_by = fields.String(
        allow_none=True,
        metadata={"description": "when the fix is due: reported_at + fix_within (ISO 8601, UTC)"},
    )
    points = fields.List(fields.String())


class BlockedSchema(Schema):
    """The limit that blocked every other plan."""

    limit = fields.String(
        metadata={"description": "pool, window, capacity, fix_ceiling, incident_cap or rules"}
    )
    who = fields.String(metadata={"description": "who can lift it: finance, lead or admin"})
    how = fields.String(metadata={"description": "how, in the reader's language"})
    how_code = fields.Nested(FactSchema)


class PlanSchema(Schema):
    """A ranked plan, as `remedy.presenting` presents it to the reader."""

    plan_id = fields.String()
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
    total_cost = AmountOut()
    total_value = AmountOut()
    expected_net_value = AmountOut()
    p_stay = fields.String()
    expected_referrals = fields.String()
    requires_approval = fields.Boolean()
    approver = fields.String(
        allow_none=True,
        metadata={"description": "who must approve it: lead or finance (null: nobody)"},
    )
    reasons = fields.List(fields.String(), metadata={"description": "in the reader's language"})
    reason_codes = fields.List(
        fields.Nested(FactSchema), metadata={"description": "the reasons as data, in order"}
    )
    rules = fields.List(fields.String())
    blocked_by = fields.Nested(
        BlockedSchema,
        allow_none=True,
        metadata={
            "description": "set on the plan offered only because a limit blocked every other "
            "plan (an apology and the best person still available): which limit, who can "
            "lift it and how"
        },
    )
    talking_points = fields.Nested(TalkingPointsSchema, allow_none=True)


class DroppedPlanSchema(Schema):
    """A better-scoring plan the guardrails removed."""

    plan_id = fields.String()
    total_cost = AmountOut()
    expected_net_value = AmountOut()
    reason = fields.String(allow_none=True, metadata={"description": "in the reader's language"})
    reason_code = fields.Nested(FactSchema, allow_none=True)
    dropped_by = fields.String(
        allow_none=True, metadata={"description": "cap (never acceptable) or budget"}
    )


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
    escalation_due = fields.Boolean(
        metadata={"description": "overdue for the next tier, not yet recorded by the worker"}
    )
    requested_at = fields.String()
    escalated_at = fields.String(allow_none=True)
    waiting_seconds = fields.Integer(allow_none=True, metadata={"description": "while pending"})
    fix_by = fields.String(
        allow_none=True,
        metadata={"description": "when the fix is promised (the talking points' fix_by)"},
    )
    fix_seconds_left = fields.Integer(
        allow_none=True,
        metadata={
            "description": "while pending: seconds until fix_by, negative when the fix is "
            "already overdue (null when no fix is promised)"
        },
    )
    decided_at = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True, metadata={"description": "the key's prefix"})
    decided_role = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    amount = fields.String()
    currency = fields.String()
    message = fields.String(metadata={"description": "the state in the decision's language"})


class DecisionSchema(Schema):
    """A recommendation as decided and stored, as one reader reads it (dumps what
    `remedy.presenting.decisions.present_decision` makes of a stored `Decision` row)."""

    decision_id = fields.String(attribute="id")
    created_at = fields.DateTime()
    status = fields.String()
    incident = fields.Dict()
    team = fields.String()
    currency = fields.String()
    language = fields.String(
        metadata={
            "description": "The reader's language, of labels, reasons and notes "
            "(Accept-Language; the customer's when the request names none); talking points "
            "are in the customer's (talking_points.language). A BCP 47 tag: 'fr', or 'pt-PT' / "
            "'pt-BR' where a language has a catalog per region"
        }
    )
    plans = fields.List(fields.Nested(PlanSchema))
    dropped = fields.List(fields.Nested(DroppedPlanSchema))
    candidates_considered = fields.Integer()
    caps = fields.Nested(CapSchema)
    fired_rules = fields.List(fields.String())
    excluded_items = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "why each item was not eligible, in the reader's language"},
    )
    excluded_codes = fields.Dict(keys=fields.String(), values=fields.Nested(FactSchema))
    notes = fields.List(fields.String(), metadata={"description": "in the reader's language"})
    note_codes = fields.List(
        fields.Nested(FactSchema), metadata={"description": "the notes as data, in order"}
    )
    versions = fields.Dict(keys=fields.String(), values=fields.String())
    propensity = fields.String()
    approval = fields.Nested(
        ApprovalStatusSchema,
        allow_none=True,
        metadata={"description": "the latest approval request: who decides, who decided, why"},
    )

"""Request and response schemas of the recommendation API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate, validates_schema

from remedy.api.fields import Amount, StrictBoolean, check_amounts, currency_field
from remedy.decisions.types import FaultType

SLUG = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", error="must be a short slug")
CHANNELS = ("email", "chat", "phone", "social", "web", "store")
# Guards against absurd input: no single incident loses more than ten million units, and no
# customer is worth more than a billion a year.
MAX_LOSS = Decimal("10000000")
MAX_CUSTOMER_VALUE = Decimal("1000000000")


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
    """One action of a plan."""

    item_id = fields.String()
    kind = fields.String()
    level = fields.String(allow_none=True)
    label = fields.String()
    value = fields.String(metadata={"description": "face value to the customer"})
    cost = fields.String(metadata={"description": "cost to the company"})
    requires_approval = fields.Boolean()
    audience = fields.String(metadata={"description": "customer, or companions for gifts"})


class TalkingPointsSchema(Schema):
    """Prompts for the agent."""

    language = fields.String()
    respond_within = fields.String(metadata={"description": "ISO 8601 duration"})
    points = fields.List(fields.String())


class PlanSchema(Schema):
    """A ranked plan."""

    plan_id = fields.String()
    rank = fields.Integer()
    actions = fields.List(fields.Nested(ActionSchema))
    currency = fields.String()
    total_cost = fields.String()
    total_value = fields.String()
    expected_net_value = fields.String()
    p_stay = fields.String()
    expected_referrals = fields.String()
    requires_approval = fields.Boolean()
    reasons = fields.List(fields.String())
    rules = fields.List(fields.String())
    talking_points = fields.Nested(TalkingPointsSchema, allow_none=True)


class DroppedPlanSchema(Schema):
    """A better-scoring plan the guardrails removed."""

    plan_id = fields.String()
    total_cost = fields.String()
    expected_net_value = fields.String()
    reason = fields.String()


class CapSchema(Schema):
    """The per-incident cap and how it was set."""

    amount = fields.String()
    currency = fields.String()
    binding = fields.String()
    terms = fields.Dict(keys=fields.String(), values=fields.String())
    factor = fields.String()
    approval_threshold = fields.String()


class DecisionSchema(Schema):
    """A recommendation as decided and stored."""

    decision_id = fields.String()
    created_at = fields.DateTime()
    status = fields.String()
    incident = fields.Dict()
    team = fields.String()
    currency = fields.String()
    plans = fields.List(fields.Nested(PlanSchema))
    dropped = fields.List(fields.Nested(DroppedPlanSchema))
    candidates_considered = fields.Integer()
    caps = fields.Nested(CapSchema)
    fired_rules = fields.List(fields.String())
    excluded_items = fields.Dict(keys=fields.String(), values=fields.String())
    notes = fields.List(fields.String())
    versions = fields.Dict(keys=fields.String(), values=fields.String())
    propensity = fields.String()

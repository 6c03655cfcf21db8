"""POST /v1/outcomes: what happened after an accepted plan."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.fields import Amount, MinorAmount, StrictBoolean, UtcDateTime, UtcInstant
from remedy.extensions import session
from remedy.services.outcomes import OutcomeService

blp = Blueprint("outcomes", __name__, url_prefix="/v1", description="Outcomes of accepted plans")


class OutcomeRequestSchema(Schema):
    """An outcome report."""

    decision_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    retained = StrictBoolean(required=True)
    # A time without an offset is taken as UTC.
    observed_at = UtcDateTime(required=True, default_timezone=UTC)
    referrals = fields.Integer(strict=True, validate=validate.Range(min=0, max=1000))
    revenue_after = Amount(validate=validate.Range(min=0, max=10**9))
    csat = fields.Integer(strict=True, validate=validate.Range(min=1, max=5))
    # When the agent first answered the customer and when the fix was done: measured against
    # the promises (respond_within, fix_within) in GET /v1/reports/promises.
    responded_at = UtcDateTime(default_timezone=UTC)
    fixed_at = UtcDateTime(default_timezone=UTC)


class OutcomeSchema(Schema):
    """A stored outcome."""

    decision_id = fields.String(attribute="outcome.decision_id")
    plan_id = fields.String(attribute="outcome.plan_id")
    retained = fields.Boolean(attribute="outcome.retained")
    observed_at = UtcInstant(attribute="outcome.observed_at")
    referrals = fields.Integer(attribute="outcome.referrals", allow_none=True)
    revenue_after = MinorAmount(attribute="outcome.revenue_after_minor", allow_none=True)
    currency = fields.String()
    csat = fields.Integer(attribute="outcome.csat", allow_none=True)
    responded_at = UtcInstant(attribute="outcome.responded_at", allow_none=True)
    fixed_at = UtcInstant(attribute="outcome.fixed_at", allow_none=True)
    recorded_by = fields.String(attribute="outcome.recorded_by")


@blp.route("/outcomes")
class Outcomes(MethodView):
    """Record outcomes."""

    @roles("agent")
    @blp.arguments(OutcomeRequestSchema)
    @blp.response(201, OutcomeSchema)
    @blp.alt_response(200, schema=OutcomeSchema, description="An earlier outcome was updated")
    def post(self, data: dict[str, Any]) -> Any:
        """Record what happened after the decision's accepted plan (a second report updates)."""
        principal = current_principal()
        outcome, created = OutcomeService(session()).record(
            data["decision_id"],
            data["retained"],
            data["observed_at"],
            principal.prefix,
            referrals=data.get("referrals"),
            revenue_after=data.get("revenue_after"),
            csat=data.get("csat"),
            principal=principal,
            responded_at=data.get("responded_at"),
            fixed_at=data.get("fixed_at"),
        )
        return outcome, 201 if created else 200

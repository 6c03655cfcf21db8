"""POST /v1/budgets/simulate: replay logged decisions under proposed settings (finance)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate, validates_schema

from remedy.api.auth import current_principal, roles
from remedy.api.fields import (
    PLAIN_DECIMAL_SCHEMA,
    Amount,
    Moment,
    check_amounts,
    currency_field,
    plain_decimal,
)
from remedy.api.schemas import SLUG
from remedy.extensions import db
from remedy.ledger.periods import PERIODS
from remedy.whatif.replay import MAX_SWEEP_POINTS
from remedy.whatif.service import WhatIfService

blp = Blueprint(
    "whatif", __name__, url_prefix="/v1", description="What-if replays of budget settings (finance)"
)


class ProposedPoolSchema(Schema):
    """A proposed pool limit for one team in one currency."""

    team = fields.String(required=True, validate=SLUG)
    currency = currency_field(required=True)
    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
    limit = Amount(required=True)

    @validates_schema
    def check_limit(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a limit finer than the currency's minor unit or above its ceiling."""
        check_amounts(data, "limit")


class SweepSchema(Schema):
    """Vary one field of the proposed caps document over a list of values."""

    path = fields.String(required=True, metadata={"example": "incident_caps.default.loss_multiple"})
    values = fields.List(
        fields.String(validate=plain_decimal, metadata=PLAIN_DECIMAL_SCHEMA),
        required=True,
        validate=validate.Length(min=1, max=MAX_SWEEP_POINTS),
    )


class SimulateRequestSchema(Schema):
    """What to replay and under which proposed settings (missing parts: the current ones)."""

    start = Moment(required=True, data_key="from")
    end = Moment(required=True, data_key="to", metadata={"description": "exclusive"})
    caps = fields.Dict(load_default=None, metadata={"description": "a whole caps document"})
    rules = fields.Dict(load_default=None, metadata={"description": "a whole rules document"})
    pools = fields.List(fields.Nested(ProposedPoolSchema), load_default=None)
    sweep = fields.Nested(SweepSchema, load_default=None, allow_none=False)


class ReplayReportSchema(Schema):
    """What one set of settings would have spent and earned."""

    decisions = fields.Integer()
    chosen = fields.Integer()
    no_plan = fields.Integer()
    skipped_for_budget = fields.Integer(
        metadata={"description": "incidents whose best kept plan broke a limit"}
    )
    skipped_for_pool = fields.Integer(
        metadata={"description": "... of which the best plan broke the team's pool"}
    )
    skipped_for_customer_window = fields.Integer(
        metadata={"description": "... of which the best plan broke the customer's window"}
    )
    skipped_for_contact_capacity = fields.Integer(
        metadata={"description": "... of which the best plan's contact level was full that day"}
    )
    spend = fields.Dict(keys=fields.String(), values=fields.String())
    spend_by_team = fields.Dict()
    spend_by_fault_type = fields.Dict()
    spend_by_kind = fields.Dict()
    expected_net_value = fields.Dict(keys=fields.String(), values=fields.String())
    expected_retention = fields.String(metadata={"description": "mean P(stay) of chosen plans"})
    capped_share = fields.String(
        metadata={"description": "share of incidents whose best-scored plan the cap dropped"}
    )
    approvals_needed = fields.Integer()


class CurvePointSchema(Schema):
    """One point of a sweep."""

    value = fields.String()
    spend = fields.Dict(keys=fields.String(), values=fields.String())
    expected_net_value = fields.Dict(keys=fields.String(), values=fields.String())


class SweepResultSchema(Schema):
    """The swept field and its curve."""

    path = fields.String()
    curve = fields.List(fields.Nested(CurvePointSchema))


class SimulateResponseSchema(Schema):
    """Current vs proposed settings over the same logged incidents."""

    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    model = fields.String()
    current = fields.Nested(ReplayReportSchema)
    proposed = fields.Nested(ReplayReportSchema)
    sweep = fields.Nested(SweepResultSchema)


@blp.route("/budgets/simulate")
class Simulate(MethodView):
    """A what-if replay."""

    @roles("finance")
    @blp.arguments(SimulateRequestSchema)
    @blp.response(200, SimulateResponseSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Replay decisions in [from, to) under current and proposed settings; writes nothing."""
        principal = current_principal()
        for index, pool in enumerate(data["pools"] or []):  # a scoped key proposes its own
            principal.require_team(pool["team"], f"pools.{index}.team")
        session = db.database().sessions()
        try:
            scorer = current_app.extensions["remedy.scorer"](session)
            values = current_app.extensions["remedy.engines"].values
            limit = current_app.config["WHATIF_MAX_INCIDENTS"]
            service = WhatIfService(
                session, scorer, values, max_incidents=limit, team=principal.team
            )
            result = service.simulate(
                data["start"],
                data["end"],
                {"caps": data["caps"], "rules": data["rules"]},
                data["pools"],
                data["sweep"],
            )
        finally:
            session.close()
        result["start"], result["end"] = result.pop("from"), result.pop("to")
        return result

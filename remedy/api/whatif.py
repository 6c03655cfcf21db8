"""POST /v1/budgets/simulate: queue a replay of logged decisions under proposed settings, and
POST /v1/budgets/<team>/suggest-caps: queue the search for the caps that earn most within a
team's pool (finance).

The replay runs as a job (remedy/whatif/job.py) in `remedy worker`; `GET /v1/jobs/<id>` shows
its progress and, rendered by `simulate_result`, its result.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.budgets import TEAM_PATH, PoolLinesSchema
from remedy.api.fields import (
    PLAIN_DECIMAL_SCHEMA,
    Moment,
    currency_field,
    plain_decimal,
)
from remedy.api.jobs import RESULT_VIEWS, JobSchema, job_view
from remedy.api.schemas import SLUG
from remedy.errors import InvalidInput
from remedy.extensions import session
from remedy.services import app_services
from remedy.services.jobs import JobQueue, JobQuota
from remedy.whatif.job import KIND, ROLE, SUGGEST_KIND, simulate_params, suggest_params
from remedy.whatif.replay import MAX_SWEEP_POINTS
from remedy.whatif.service import WhatIfService

blp = Blueprint(
    "whatif", __name__, url_prefix="/v1", description="What-if replays of budget settings (finance)"
)


class ProposedPoolSchema(PoolLinesSchema):
    """A proposed pool for one team in one currency, as `PUT /v1/budgets/<team>` takes it."""

    team = fields.String(required=True, validate=SLUG)


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
    skipped_for_fix_line = fields.Integer(
        metadata={"description": "... of which the best plan's fix part broke a pool's fix line"}
    )
    skipped_for_overdelivery_line = fields.Integer(
        metadata={
            "description": "... of which the rest of the best plan broke a pool's overdelivery line"
        }
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
    spend_by_line = fields.Dict(
        metadata={
            "description": "what chosen plans spent on each line (fix, overdelivery), per currency"
        }
    )
    expected_net_value = fields.Dict(keys=fields.String(), values=fields.String())
    expected_retention = fields.String(metadata={"description": "mean P(stay) of chosen plans"})
    capped_share = fields.String(
        metadata={"description": "share of incidents whose best-scored plan the cap dropped"}
    )
    approvals_needed = fields.Integer()


class CurvePointSchema(Schema):
    """One point of a sweep: the value and what the replay under it gave."""

    value = fields.String()
    chosen = fields.Integer()
    no_plan = fields.Integer()
    spend = fields.Dict(keys=fields.String(), values=fields.String())
    expected_net_value = fields.Dict(keys=fields.String(), values=fields.String())
    expected_retention = fields.String()
    capped_share = fields.String()
    approvals_needed = fields.Integer()
    skipped_for_budget = fields.Integer()
    skipped_for_pool = fields.Integer()
    skipped_for_fix_line = fields.Integer()
    skipped_for_overdelivery_line = fields.Integer()
    skipped_for_customer_window = fields.Integer()
    skipped_for_contact_capacity = fields.Integer()


class SweepResultSchema(Schema):
    """The swept field, its value today and its curve."""

    path = fields.String()
    current_value = fields.String(
        allow_none=True, metadata={"description": "the field's value in the proposed caps"}
    )
    curve = fields.List(fields.Nested(CurvePointSchema))


class SimulateResponseSchema(Schema):
    """Current vs proposed settings over the same logged incidents."""

    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    model = fields.String()
    current = fields.Nested(ReplayReportSchema)
    proposed = fields.Nested(ReplayReportSchema)
    sweep = fields.Nested(SweepResultSchema)
    notes = fields.List(
        fields.String(),
        metadata={"description": "what changed nothing and why (e.g. an overridden default)"},
    )


@blp.route("/budgets/simulate")
class Simulate(MethodView):
    """A what-if replay, run as a job by `remedy worker` (never inside this request)."""

    @roles(ROLE)
    @blp.arguments(SimulateRequestSchema)
    @blp.response(202, JobSchema, headers={"Location": {"description": "the job to poll"}})
    def post(self, data: dict[str, Any]) -> tuple[Any, int, dict[str, str]]:
        """Queue a replay of the decisions in [from, to) under current and proposed settings.

        The request is checked as the replay would check it (422 naming the field); the answer
        is the queued job (202, `Location: /v1/jobs/<id>`): poll it for progress and the
        result, whose shape is `SimulateResponse`. Writes nothing but the job.
        """
        principal = current_principal()
        JobQueue(session()).check_quota(principal, job_quota(), lock=False)  # before the work
        for index, pool in enumerate(data["pools"] or []):  # a scoped key proposes its own
            principal.require_team(pool["team"], f"pools.{index}.team")
        proposed = {"caps": data["caps"], "rules": data["rules"]}
        values = app_services.engines().values
        service = WhatIfService(session(), None, values, team=principal.team)
        service.check(data["start"], data["end"], proposed, data["pools"], data["sweep"])
        params = simulate_params(data["start"], data["end"], proposed, data["pools"], data["sweep"])
        job = JobQueue(session()).enqueue(KIND, params, ROLE, principal, job_quota())
        return job_view(job), 202, {"Location": url_for("jobs.JobStatus", job_id=job.id)}


def job_quota() -> JobQuota:
    """The configured jobs per key and per team (REMEDY_JOBS_PER_KEY, REMEDY_JOBS_PER_TEAM)."""
    config = current_app.config
    return JobQuota(per_key=config["JOBS_PER_KEY"], per_team=config["JOBS_PER_TEAM"])


def simulate_result(result: dict[str, Any]) -> dict[str, Any]:
    """A finished replay's result as the API shows it (`SimulateResponse`)."""
    shown = {**result, "start": result.get("from"), "end": result.get("to")}
    return SimulateResponseSchema().dump(shown)


RESULT_VIEWS[KIND] = simulate_result


class SuggestCapsRequestSchema(Schema):
    """Which pool to suggest caps for (the path's team, this currency) and which days to replay."""

    currency = currency_field(required=True)
    start = Moment(required=True, data_key="from")
    end = Moment(required=True, data_key="to", metadata={"description": "exclusive"})


@blp.route("/budgets/<team>/suggest-caps", parameters=[TEAM_PATH])
class SuggestCaps(MethodView):
    """Suggested caps for a pool, searched by a job (dozens of replays; never in this request)."""

    @roles(ROLE)
    @blp.arguments(SuggestCapsRequestSchema)
    @blp.response(202, JobSchema, headers={"Location": {"description": "the job to poll"}})
    def post(self, data: dict[str, Any], team: str) -> tuple[Any, int, dict[str, str]]:
        """Queue the search for the caps that maximise expected net value of the decisions
        logged in [from, to) without exhausting `team`'s pool in `currency` before its period
        ends (remedy/whatif/suggest.py). The job's result has today's figures beside the
        suggestion's, the caps it would change and the suggested caps document. Writes nothing
        but the job; 422 when the team has no pool in the currency.
        """
        try:
            SLUG(team)
        except ValidationError as error:
            raise InvalidInput("Invalid fields: team", {"team": error.messages}) from None
        principal = current_principal()
        principal.require_team(team)
        JobQueue(session()).check_quota(principal, job_quota(), lock=False)  # before the work
        if data["end"] <= data["start"]:
            raise InvalidInput("to must be after from", {"to": ["must be after from"]})
        values = app_services.engines().values
        service = WhatIfService(session(), None, values, team=principal.team)
        if (team, data["currency"]) not in service.pool_limits():
            message = f"no {data['currency']} pool in effect for team {team}"
            raise InvalidInput(message, {"team": [message]})
        params = suggest_params(team, data["currency"], data["start"], data["end"])
        job = JobQueue(session()).enqueue(SUGGEST_KIND, params, ROLE, principal, job_quota())
        return job_view(job), 202, {"Location": url_for("jobs.JobStatus", job_id=job.id)}

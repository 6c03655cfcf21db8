"""GET /v1/reports/*: spend, diagnose, promises and the honesty audit, as JSON or CSV.

Finance reads every team's (or one, `team=`); a lead reads its own team's only: its key is
always team-scoped, so the service is given that team, and naming another is 403."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.fields import MinorAmount, Moment, UtcInstant
from remedy.api.schemas import SLUG
from remedy.extensions import session
from remedy.services.reports import GROUPS, PERIOD_KINDS, ReportService

blp = Blueprint("reports", __name__, url_prefix="/v1", description="Spend and failure reports")


class RangeArgs(Schema):
    """A date range [from, to) and the answer's format."""

    start = Moment(required=True, data_key="from")
    end = Moment(required=True, data_key="to", metadata={"description": "exclusive"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    team = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={
            "description": "one team's rows only; a team-scoped key (every lead's) reads its "
            "own team only, and naming another is 403"
        },
    )


class SpendArgs(RangeArgs):
    """How to group spend."""

    group_by = fields.String(load_default="period", validate=validate.OneOf(GROUPS))
    period = fields.String(load_default="month", validate=validate.OneOf(PERIOD_KINDS))


class SpendLineSchema(Schema):
    """What one line of the pools spent (CSV: `<line>_committed`, `<line>_reserved`)."""

    committed = MinorAmount(attribute="committed_minor")
    reserved = MinorAmount(attribute="reserved_minor")


class SpendRowSchema(Schema):
    """Spend of one group in one currency, and how it splits between the two lines."""

    group = fields.String()
    currency = fields.String()
    committed = MinorAmount(attribute="committed_minor")
    reserved = MinorAmount(attribute="reserved_minor")
    plans = fields.Integer()
    fix = fields.Nested(
        SpendLineSchema, metadata={"description": "fix money: refunds, credits, redos"}
    )
    overdelivery = fields.Nested(
        SpendLineSchema, metadata={"description": "overdelivery money: gifts, upgrades, contact"}
    )


class SpendReportSchema(Schema):
    """Spend grouped as asked."""

    group_by = fields.String()
    rows = fields.List(fields.Nested(SpendRowSchema))


class DiagnoseRowSchema(Schema):
    """One month, category and fault type in one currency."""

    month = fields.String()
    category = fields.String()
    fault_type = fields.String()
    currency = fields.String()
    incidents = fields.Integer()
    remedy_cost = MinorAmount(attribute="remedy_cost_minor")
    outcomes = fields.Integer()
    retention = fields.String(allow_none=True)
    lost_customer_value = MinorAmount(attribute="lost_customer_value_minor")
    cost_to_company = MinorAmount(attribute="cost_to_company_minor")
    decisions = fields.Integer(
        metadata={"description": "decisions the tickets took (incidents counts tickets)"}
    )


class KeptSchema(Schema):
    """How one promise was kept."""

    count = fields.Integer()
    kept_share = fields.String(allow_none=True)
    p50_minutes = fields.String(allow_none=True)
    p90_minutes = fields.String(allow_none=True)


class PromisesRowSchema(Schema):
    """Time to respond and to fix, for one category and team."""

    category = fields.String()
    team = fields.String()
    respond = fields.Nested(KeptSchema)
    fix = fields.Nested(KeptSchema)


class PromisesReportSchema(Schema):
    """The promises kept, the groups keeping fewest first."""

    rows = fields.List(fields.Nested(PromisesRowSchema))


class DiagnoseReportSchema(Schema):
    """Failures ranked by cost to the company."""

    rows = fields.List(fields.Nested(DiagnoseRowSchema))


class AuditRowSchema(Schema):
    """What one touchpoint's failures cost in one currency, counted by ticket."""

    touchpoint = fields.String(
        allow_none=True, metadata={"description": "null: the incidents that named none"}
    )
    currency = fields.String()
    cost = MinorAmount(
        attribute="cost_minor", metadata={"description": "remedies + lost_customer_value"}
    )
    remedies = MinorAmount(
        attribute="remedies_minor",
        metadata={"description": "committed money plus what open reservations hold"},
    )
    lost_customer_value = MinorAmount(attribute="lost_customer_value_minor")
    lost_customers = fields.Integer(metadata={"description": "tickets whose customer left"})
    promises_broken = fields.Integer(
        metadata={
            "description": "respond_broken + fix_broken: each promise counts once a ticket, "
            "when an outcome records a time later than promised"
        }
    )
    respond_broken = fields.Integer()
    fix_broken = fields.Integer()
    tickets = fields.Integer(
        metadata={"description": "external_id (a decision without one is its own ticket)"}
    )
    decisions = fields.Integer()
    repeat_victims = fields.Integer(
        metadata={"description": "customers with two or more tickets at this touchpoint"}
    )
    previous_cost = MinorAmount(attribute="previous_cost_minor")
    previous_tickets = fields.Integer()
    cost_change = MinorAmount(
        attribute="cost_change_minor", metadata={"description": "cost - previous_cost"}
    )
    cost_change_share = fields.String(
        allow_none=True, metadata={"description": "null when the previous period cost nothing"}
    )


class AuditReportSchema(Schema):
    """Touchpoints, costliest first, against the previous period of equal length."""

    start = UtcInstant(data_key="from")
    end = UtcInstant(data_key="to", metadata={"description": "exclusive"})
    previous_from = UtcInstant(
        attribute="previous_start",
        metadata={"description": "the previous period: [previous_from, from)"},
    )
    rows = fields.List(fields.Nested(AuditRowSchema))


# The alternative answer every report documents for format=csv.
CSV_ANSWER: dict[str, Any] = {
    "schema": {"type": "string"},
    "content_type": "text/csv",
    "success": True,
    "description": "format=csv: the same rows as CSV with a header row",
}


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a dumped row for CSV: a nested object's fields become `<name>_<field>`."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _csv(schema: Schema, rows: list[Any], name: str) -> Response:
    """Answer the rows as CSV with a header row: the JSON answer's fields, flattened."""
    dumped = [_flat(row) for row in schema.dump(rows, many=True)]
    columns = _columns(schema)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in dumped:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _columns(schema: Schema, prefix: str = "") -> list[str]:
    """The CSV header of a schema: its fields in order, nested objects flattened."""
    columns: list[str] = []
    for name, field in schema.fields.items():
        key = field.data_key or name
        if isinstance(field, fields.Nested):
            columns += _columns(field.schema, f"{prefix}{key}_")
        else:
            columns.append(f"{prefix}{key}")
    return columns


def _team(args: dict[str, Any]) -> str | None:
    """The team a report reads: the one asked (403 for a key scoped to another), else the key's
    own (None: every team, for an unscoped key)."""
    principal = current_principal()
    if args["team"] is not None:
        principal.require_team(args["team"])
        return args["team"]
    return principal.team


def _service() -> ReportService:
    """The reports, bounded to REMEDY_REPORT_MAX_DAYS."""
    return ReportService(session(), current_app.config["REPORT_MAX_DAYS"])


@blp.route("/reports/spend")
class SpendReport(MethodView):
    """Committed and reserved spend."""

    @roles("finance", "lead")
    @blp.arguments(SpendArgs, location="query")
    @blp.response(200, SpendReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Spend of plans accepted in [from, to), grouped as asked."""
        rows = _service().spend(
            args["start"], args["end"], args["group_by"], args["period"], _team(args)
        )
        if args["format"] == "csv":
            return _csv(SpendRowSchema(), rows, "spend")
        return {"group_by": args["group_by"], "rows": rows}


@blp.route("/reports/diagnose")
class DiagnoseReport(MethodView):
    """Recurring failures by cost."""

    @roles("finance", "lead")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, DiagnoseReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Incidents, remedy cost and retention by month, category and fault; costliest first."""
        rows = _service().diagnose(args["start"], args["end"], _team(args))
        if args["format"] == "csv":
            return _csv(DiagnoseRowSchema(), rows, "diagnose")
        return {"rows": rows}


@blp.route("/reports/promises")
class PromisesReport(MethodView):
    """Time to respond and time to fix against the promises."""

    @roles("finance", "lead")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, PromisesReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Share of respond-within and fix-within promises kept, p50 and p90, by category and
        team, for decisions made in [from, to) whose outcome gives the times."""
        rows = _service().promises(args["start"], args["end"], _team(args))
        if args["format"] == "csv":
            return _csv(PromisesRowSchema(), rows, "promises")
        return {"rows": rows}


@blp.route("/reports/audit")
class AuditReport(MethodView):
    """The honesty audit: which touchpoints keep failing, and what it costs."""

    @roles("finance", "lead")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, AuditReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Touchpoints ranked by cost (remedies given + customer value lost; then promises
        broken), counted by ticket (`external_id`; a decision without one is its own ticket;
        asked twice, it counts once, where it was first asked) over the tickets first asked in
        [from, to), with the period of equal length before and the repeat victims."""
        report = _service().audit(args["start"], args["end"], _team(args))
        if args["format"] == "csv":
            return _csv(AuditRowSchema(), report.rows, "audit")
        return report

"""GET /v1/reports/spend and /v1/reports/diagnose: finance's reports, as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.fields import Moment
from remedy.extensions import session
from remedy.services.reports import GROUPS, PERIOD_KINDS, ReportService, to_csv

blp = Blueprint("reports", __name__, url_prefix="/v1", description="Spend and failure reports")

SPEND_COLUMNS = ["group", "currency", "committed", "reserved", "plans"]
DIAGNOSE_COLUMNS = [
    "month",
    "category",
    "fault_type",
    "currency",
    "incidents",
    "remedy_cost",
    "outcomes",
    "retention",
    "lost_customer_value",
    "cost_to_company",
]


class RangeArgs(Schema):
    """A date range [from, to) and the answer's format."""

    start = Moment(required=True, data_key="from")
    end = Moment(required=True, data_key="to", metadata={"description": "exclusive"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class SpendArgs(RangeArgs):
    """How to group spend."""

    group_by = fields.String(load_default="period", validate=validate.OneOf(GROUPS))
    period = fields.String(load_default="month", validate=validate.OneOf(PERIOD_KINDS))


class SpendRowSchema(Schema):
    """Spend of one group in one currency."""

    group = fields.String()
    currency = fields.String()
    committed = fields.String()
    reserved = fields.String()
    plans = fields.Integer()


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
    remedy_cost = fields.String()
    outcomes = fields.Integer()
    retention = fields.String(allow_none=True)
    lost_customer_value = fields.String()
    cost_to_company = fields.String()


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


# The alternative answer both reports document for format=csv.
CSV_ANSWER: dict[str, Any] = {
    "schema": {"type": "string"},
    "content_type": "text/csv",
    "success": True,
    "description": "format=csv: the same rows as CSV with a header row",
}


def _csv(rows: list[dict[str, Any]], columns: list[str], name: str) -> Response:
    return Response(
        to_csv(rows, columns),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@blp.route("/reports/spend")
class SpendReport(MethodView):
    """Committed and reserved spend."""

    @roles("finance")
    @blp.arguments(SpendArgs, location="query")
    @blp.response(200, SpendReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Spend of plans accepted in [from, to), grouped as asked."""
        rows = ReportService(session()).spend(
            args["start"], args["end"], args["group_by"], args["period"], current_principal().team
        )
        if args["format"] == "csv":
            return _csv(rows, SPEND_COLUMNS, "spend")
        return {"group_by": args["group_by"], "rows": rows}


@blp.route("/reports/diagnose")
class DiagnoseReport(MethodView):
    """Recurring failures by cost."""

    @roles("finance")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, DiagnoseReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Incidents, remedy cost and retention by month, category and fault; costliest first."""
        rows = ReportService(session()).diagnose(
            args["start"], args["end"], current_principal().team
        )
        if args["format"] == "csv":
            return _csv(rows, DIAGNOSE_COLUMNS, "diagnose")
        return {"rows": rows}


@blp.route("/reports/promises")
class PromisesReport(MethodView):
    """Time to respond and time to fix against the promises."""

    @roles("finance")
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, PromisesReportSchema)
    @blp.alt_response(200, **CSV_ANSWER)
    def get(self, args: dict[str, Any]) -> Any:
        """Share of respond-within and fix-within promises kept, p50 and p90, by category and
        team, for decisions made in [from, to) whose outcome gives the times."""
        rows = ReportService(session()).promises(
            args["start"], args["end"], current_principal().team
        )
        if args["format"] == "csv":
            flat = [
                {
                    "category": r["category"],
                    "team": r["team"],
                    **{f"{part}_{k}": v for part in ("respond", "fix") for k, v in r[part].items()},
                }
                for r in rows
            ]
            columns = ["category", "team"] + [
                f"{part}_{k}"
                for part in ("respond", "fix")
                for k in ("count", "kept_share", "p50_minutes", "p90_minutes")
            ]
            return _csv(flat, columns, "promises")
        return {"rows": rows}

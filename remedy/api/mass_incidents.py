"""POST /v1/mass-incidents (JSON, CSV or multipart), GET one with its total against the pool,
its customers, and POST .../approve: one failure, many customers (remedy/services/
mass_incidents.py decides and reserves them as jobs).

The body is bounded twice: its size (`REMEDY_MASS_INCIDENT_MAX_BYTES`, this route only; every
other route keeps `REMEDY_MAX_BODY_BYTES`) and its rows (`REMEDY_MASS_INCIDENT_MAX_ROWS`).
Every row is checked before anything is stored: a bad row is 422 naming `customers.<row>.<field>`
(row 1 is the first customer; in CSV, the line after the header), and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from remedy.api.auth import current_principal, roles
from remedy.api.jobs import job_view
from remedy.api.mass_bodies import incidents_of, load_body, read_body
from remedy.api.mass_schemas import (
    MASS_PATH,
    ApproveMassSchema,
    MassCustomerListSchema,
    MassCustomerQuerySchema,
    MassIncidentRequestSchema,
    MassIncidentSchema,
    SharedIncidentSchema,
)
from remedy.api.reading import current_reader
from remedy.api.whatif import job_quota
from remedy.extensions import session
from remedy.facts import load_facts
from remedy.money import from_minor
from remedy.presenting import Presenter
from remedy.services import app_services
from remedy.services.mass_incidents import MassIncidentService
from remedy.services.mass_states import FAILED
from remedy.store.tables import MassIncident, MassIncidentCustomer

blp = Blueprint(
    "mass_incidents",
    __name__,
    url_prefix="/v1",
    description="Mass incidents: one failure, many customers, decided and reserved as jobs",
)
# The one operation that takes CSV and multipart bodies, and larger ones (create_app marks it).
BULK_ENDPOINTS = ("mass_incidents.MassIncidents",)


def view(mass: MassIncident, job: Any = None) -> dict[str, Any]:
    """A mass incident as `MassIncidentSchema` shows it (a failed one with its failed job)."""
    service = MassIncidentService(session())
    status = service.status(mass)
    if job is None and status == FAILED:
        job = service.active_job(mass)
    return {
        "id": mass.id,
        "team": mass.team,
        "status": status,
        "incident": mass.incident,
        "customers": mass.customers,
        "tier": mass.tier,
        **_said_refusal(service.summary(mass)),
        "created_by": mass.created_by,
        "created_at": mass.created_at,
        "decided_at": mass.decided_at,
        "approved_by": mass.approved_by,
        "approved_role": mass.approved_role,
        "approved_at": mass.approved_at,
        "reason": mass.reason,
        "finished_at": mass.finished_at,
        "decide_job_id": mass.decide_job_id,
        "reserve_job_id": mass.reserve_job_id,
        "job": job_view(job) if job is not None else None,
    }


@blp.route("/mass-incidents")
class MassIncidents(MethodView):
    """Declare a mass incident."""

    @roles("lead", "finance")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": MassIncidentRequestSchema}},
        }
    )
    @blp.response(202, MassIncidentSchema, headers={"Location": {"description": "poll it"}})
    def post(self) -> tuple[Any, int, dict[str, str]]:
        """Declare one failure for many customers: JSON (`incident`, `team`, `customers`), a
        `text/csv` body (one customer a row, a header naming the columns: customer_id,
        customer_value, loss_amount, currency, external_id, locale, churn_threat,
        customer_status, public, reach, channel; the incident's fields as query parameters:
        severity, fault_type, category, channel, currency, locale, reported_at, public,
        churn_threat, team) or `multipart/form-data` (an `incident` JSON part, `team`, and a
        `customers` CSV file). Every row is checked first: a bad one is 422 naming
        `customers.<row>.<field>` and nothing is stored. The answer (202) is the mass incident,
        with the job deciding every customer; poll `Location` for the total against the pool.
        """
        principal = current_principal()
        data = load_body(read_body())
        team = principal.team_for(data["team"])
        engine = app_services.engines().engine(session())
        incidents = incidents_of(data, team, engine)
        shared = SharedIncidentSchema().dump(data["incident"])
        declared = MassIncidentService(session()).declare(
            team,
            shared,
            incidents,
            principal,
            job_quota(),
            int(current_app.config["MASS_INCIDENT_CHUNK_SIZE"]),
        )
        location = url_for("mass_incidents.MassIncidentOne", mass_incident_id=declared.mass.id)
        return view(declared.mass, declared.job), 202, {"Location": location}


@blp.route("/mass-incidents/<mass_incident_id>", parameters=[MASS_PATH])
class MassIncidentOne(MethodView):
    """One mass incident."""

    @roles("lead", "finance")
    @blp.response(200, MassIncidentSchema)
    def get(self, mass_incident_id: str) -> dict[str, Any]:
        """Where it stands: status, customers by state, progress, and per currency the chosen
        plans' total (fix and overdelivery) against what the pool has left now, before
        anything is reserved; after approval, what was reserved and what was refused, why."""
        return view(MassIncidentService(session()).get(mass_incident_id, current_principal()))


@blp.route("/mass-incidents/<mass_incident_id>/customers", parameters=[MASS_PATH])
class MassIncidentCustomers(MethodView):
    """Its customers."""

    @roles("lead", "finance")
    @blp.arguments(MassCustomerQuerySchema, location="query")
    @blp.response(200, MassCustomerListSchema)
    def get(self, query: dict[str, Any], mass_incident_id: str) -> dict[str, Any]:
        """The customers in row order (`after` a row, at most `limit`, of one `state`): each
        one's decision, chosen plan, cost and, when refused, the limit that refused it."""
        service = MassIncidentService(session())
        mass = service.get(mass_incident_id, current_principal())
        rows = service.customers(mass, query["state"], query["after"], query["limit"])
        return {"customers": [_customer(row) for row in rows]}


@blp.route("/mass-incidents/<mass_incident_id>/approve", parameters=[MASS_PATH])
class MassIncidentApprove(MethodView):
    """Approve a mass incident."""

    @roles("lead", "finance")
    @blp.arguments(ApproveMassSchema)
    @blp.response(202, MassIncidentSchema, headers={"Location": {"description": "poll it"}})
    def post(self, data: dict[str, Any], mass_incident_id: str) -> tuple[Any, int, dict[str, str]]:
        """Approve a ready mass incident: a lead of its team when every chosen plan is within
        the lead tier, finance otherwise; never the key that declared it (four eyes). Queues
        the job that reserves its customers one chunk (one transaction) at a time; a chunk
        that would break the pool is refused whole, and the chunks after it too. A partly
        reserved one may be approved again (after finance raised the pool) to retry those."""
        four_eyes = app_services.four_eyes()
        mass, job = MassIncidentService(session()).approve(
            mass_incident_id, current_principal(), four_eyes, data["reason"]
        )
        location = url_for("mass_incidents.MassIncidentOne", mass_incident_id=mass.id)
        return view(mass, job), 202, {"Location": location}


@blp.route("/mass-incidents/<mass_incident_id>/retry", parameters=[MASS_PATH])
class MassIncidentRetry(MethodView):
    """Retry a failed mass incident."""

    @roles("lead", "finance")
    @blp.response(202, MassIncidentSchema, headers={"Location": {"description": "poll it"}})
    def post(self, mass_incident_id: str) -> tuple[Any, int, dict[str, str]]:
        """Queue the failed job of a mass incident again (status `failed`: its deciding or
        reserving job failed). The job resumes: customers already decided and chunks already
        reserved are not done twice. 409 when it has not failed."""
        service = MassIncidentService(session())
        job = service.retry(mass_incident_id, current_principal(), job_quota())
        mass = service.get(mass_incident_id, current_principal())
        location = url_for("mass_incidents.MassIncidentOne", mass_incident_id=mass.id)
        return view(mass, job), 202, {"Location": location}


def _customer(row: MassIncidentCustomer) -> dict[str, Any]:
    money = lambda minor: None if minor is None else str(from_minor(minor, row.currency))  # noqa: E731
    return {
        "row": row.row,
        "customer_id": row.customer_id,
        "currency": row.currency,
        "state": row.state,
        "decision_id": row.decision_id,
        "plan_id": row.plan_id,
        "cost": money(row.cost_minor),
        "fix": money(row.fix_minor),
        "contact_level": row.contact_level,
        "approver": row.approver,
        "reason": said(row.reason),
    }


def said(reason: str | None) -> str | None:
    """A stored refusal (the limits as facts) in the reader's language; other text as it is."""
    facts = load_facts(reason)
    if facts is None:
        return reason
    reader = current_reader()
    return "; ".join(Presenter(reader.locale or "en", finance=reader.finance).say_all(facts))


def _said_refusal(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with its first refusal said for the reader."""
    return {**summary, "refusal": said(summary.get("refusal"))}


# -- reading the body ------------------------------------------------------------------------

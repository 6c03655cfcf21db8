"""POST /v1/mass-incidents (JSON, CSV or multipart), GET one with its total against the pool,
its customers, and POST .../approve: one failure, many customers (remedy/services/
mass_incidents.py decides and reserves them as jobs).

The body is bounded twice: its size (`REMEDY_MASS_INCIDENT_MAX_BYTES`, this route only; every
other route keeps `REMEDY_MAX_BODY_BYTES`) and its rows (`REMEDY_MASS_INCIDENT_MAX_ROWS`).
Every row is checked before anything is stored: a bad row is 422 naming `customers.<row>.<field>`
(row 1 is the first customer; in CSV, the line after the header), and nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.errors import flatten
from remedy.api.fields import StrictBoolean, UtcDateTime, currency_field
from remedy.api.jobs import JobSchema, ProgressSchema, job_view
from remedy.api.reading import current_reader
from remedy.api.recommendations import incident_from_request
from remedy.api.schemas import SLUG, IncidentSchema
from remedy.api.whatif import job_quota
from remedy.domain import CHANNELS, CUSTOMER_STATUSES, FaultType, Incident
from remedy.errors import InvalidInput
from remedy.extensions import session
from remedy.facts import load_facts
from remedy.money import MoneyError, check_amount, from_minor
from remedy.presenting import Presenter
from remedy.services import app_services
from remedy.services.incidents import canonical_incident
from remedy.services.mass_incidents import MassIncidentService
from remedy.services.mass_states import CUSTOMER_STATES, FAILED, MAX_LISTED, STATUSES
from remedy.store.tables import MassIncident, MassIncidentCustomer, utcnow

blp = Blueprint(
    "mass_incidents",
    __name__,
    url_prefix="/v1",
    description="Mass incidents: one failure, many customers, decided and reserved as jobs",
)
# The one operation that takes CSV and multipart bodies, and larger ones (create_app marks it).
BULK_ENDPOINTS = ("mass_incidents.MassIncidents",)
CSV_TYPES = ("text/csv", "multipart/form-data")
# What each customer may say for itself; everything else is the incident's, said once.
ROW_FIELDS = (
    "customer_id",
    "customer_value",
    "loss_amount",
    "currency",
    "external_id",
    "locale",
    "churn_threat",
    "customer_status",
    "public",
    "reach",
    "channel",
)
_INTEGERS = ("reach",)
_BOOLEANS = ("churn_threat", "public")
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class SharedIncidentSchema(Schema):
    """What every affected customer has in common: the failure itself. `currency` (required),
    `locale`, `channel`, `public` and `churn_threat` are defaults a customer's row may
    override."""

    severity = IncidentSchema._declared_fields["severity"]
    fault_type = IncidentSchema._declared_fields["fault_type"]
    category = IncidentSchema._declared_fields["category"]
    touchpoint = IncidentSchema._declared_fields["touchpoint"]
    channel = IncidentSchema._declared_fields["channel"]
    locale = IncidentSchema._declared_fields["locale"]
    currency = currency_field(required=True)
    churn_threat = StrictBoolean(load_default=False)
    public = StrictBoolean(load_default=False)
    reported_at = UtcDateTime(
        load_default=None,
        metadata={"description": "when the failure first reached customers (default: now)"},
    )


class CustomerRowSchema(Schema):
    """One affected customer: who, what they are worth, what they lost (in their currency)."""

    customer_id = IncidentSchema._declared_fields["customer_id"]
    customer_value = IncidentSchema._declared_fields["customer_value"]
    loss_amount = IncidentSchema._declared_fields["loss_amount"]
    currency = currency_field(load_default=None)  # default: the incident's currency
    external_id = IncidentSchema._declared_fields["external_id"]
    locale = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[a-zA-Z]{2,3}([-_][A-Za-z0-9]{2,8})*$", error="not a locale"),
    )
    churn_threat = StrictBoolean(load_default=None)
    customer_status = fields.String(load_default=None, validate=validate.OneOf(CUSTOMER_STATUSES))
    public = StrictBoolean(load_default=None)
    reach = IncidentSchema._declared_fields["reach"]
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))


class Rows(fields.List):
    """A list whose errors name rows from 1 (the first customer), not list indexes."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            messages = error.messages
            if isinstance(messages, dict):
                messages = {
                    (key + 1 if isinstance(key, int) else key): text
                    for key, text in messages.items()
                }
            raise ValidationError(messages) from None


class MassIncidentRequestSchema(Schema):
    """POST /v1/mass-incidents as JSON (CSV: the customers as rows, the incident's fields as
    query parameters; multipart: an `incident` JSON part, `team` and a `customers` CSV file)."""

    incident = fields.Nested(SharedIncidentSchema, required=True)
    team = fields.String(load_default=None, validate=SLUG)
    customers = Rows(
        fields.Nested(CustomerRowSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "each affected customer (at most REMEDY_MASS_INCIDENT_MAX_ROWS)"},
    )


class MassPoolSchema(Schema):
    """The pool a currency's plans spend from, as it stands now."""

    team = fields.String()
    period = fields.String()
    limit = fields.String()
    remaining = fields.String()
    split = fields.Boolean()
    fix_remaining = fields.String(allow_none=True)
    overdelivery_remaining = fields.String(allow_none=True)
    fits = fields.Boolean(
        metadata={"description": "what is still to reserve fits what the pool has left now"}
    )


class MassTotalSchema(Schema):
    """One currency's plans: their total (fix and overdelivery) against the pool."""

    currency = fields.String()
    customers = fields.Integer()
    refused = fields.Integer()
    planned = fields.String(metadata={"description": "the chosen plans' total cost"})
    fix = fields.String()
    overdelivery = fields.String()
    reserved = fields.String()
    to_reserve = fields.String()
    pool = fields.Nested(MassPoolSchema, allow_none=True)


class MassChunksSchema(Schema):
    """The chunks reserved one transaction each."""

    total = fields.Integer()
    pending = fields.Integer()
    reserved = fields.Integer()
    refused = fields.Integer()
    size = fields.Integer()


class MassIncidentSchema(Schema):
    """A mass incident: where it stands, customers by state, the total against the pool."""

    id = fields.String()
    team = fields.String()
    status = fields.String(
        metadata={
            "enum": list(STATUSES),
            "description": "failed: the job working on it failed (see `job`); retry it",
        }
    )
    incident = fields.Dict(metadata={"description": "the fields every customer shares"})
    customers = fields.Integer()
    tier = fields.String(
        allow_none=True, metadata={"description": "who approves it: lead or finance"}
    )
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    totals = fields.List(fields.Nested(MassTotalSchema))
    chunks = fields.Nested(MassChunksSchema)
    refusal = fields.String(
        allow_none=True, metadata={"description": "why the first refused chunk was refused"}
    )
    needs_approval_by = fields.Dict(keys=fields.String(), values=fields.Integer())
    progress = fields.Nested(ProgressSchema)
    created_by = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_role = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    decide_job_id = fields.String(allow_none=True)
    reserve_job_id = fields.String(allow_none=True)
    job = fields.Nested(JobSchema, allow_none=True, metadata={"description": "the job queued"})


class MassCustomerSchema(Schema):
    """One customer of a mass incident and what was done for it."""

    row = fields.Integer()
    customer_id = fields.String()
    currency = fields.String()
    state = fields.String(metadata={"enum": list(CUSTOMER_STATES)})
    decision_id = fields.String(allow_none=True)
    plan_id = fields.String(allow_none=True)
    cost = fields.String(allow_none=True)
    fix = fields.String(allow_none=True)
    contact_level = fields.String(allow_none=True)
    approver = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class MassCustomerListSchema(Schema):
    """A page of customers, in row order."""

    customers = fields.List(fields.Nested(MassCustomerSchema))


class MassCustomerQuerySchema(Schema):
    """Which customers: a state, after a row, how many."""

    state = fields.String(load_default=None, validate=validate.OneOf(CUSTOMER_STATES))
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**9))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LISTED))


class ApproveMassSchema(Schema):
    """Why (optional)."""

    reason = fields.String(load_default="", validate=validate.Length(max=500))


MASS_PATH = {"in": "path", "name": "mass_incident_id", "schema": {"type": "string"}}


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
        data = _load(_read_body())
        team = principal.team_for(data["team"])
        engine = app_services.engines().engine(session())
        incidents = _incidents(data, team, engine)
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


def _max_rows() -> int:
    return int(current_app.config["MASS_INCIDENT_MAX_ROWS"])


def _read_body() -> dict[str, Any]:
    """The request as one JSON-shaped object, whatever it came as."""
    if request.mimetype == "text/csv":
        shared = {k: v for k, v in request.args.items() if k != "team"}
        return {
            "incident": _typed(shared),
            "team": request.args.get("team"),
            "customers": _csv_rows(request.get_data(cache=True)),
        }
    if request.mimetype == "multipart/form-data":
        try:
            shared = json.loads(request.form.get("incident") or "{}")
        except ValueError:
            raise InvalidInput("incident is not JSON", {"incident": ["not JSON"]}) from None
        upload = request.files.get("customers")
        if upload is None:
            message = "attach the customers as a CSV file named customers"
            raise InvalidInput(message, {"customers": [message]})
        return {
            "incident": shared,
            "team": request.form.get("team") or None,
            "customers": _csv_rows(upload.read()),
        }
    body = request.get_json()
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", {"_request": ["not an object"]})
    customers = body.get("customers")
    if isinstance(customers, list) and len(customers) > _max_rows():
        _too_many()
    return body


def _too_many() -> None:
    message = f"at most {_max_rows()} customers in one mass incident; split it"
    raise InvalidInput(message, {"customers": [message]})


def _csv_rows(raw: bytes) -> list[dict[str, Any]]:
    """The CSV's rows as objects (empty cells left out, numbers and booleans typed)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8", {"customers": ["not UTF-8"]}) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    unknown = [c for c in columns if c not in ROW_FIELDS]
    if not columns or unknown:
        message = f"unknown column(s) {unknown}; columns: {', '.join(ROW_FIELDS)}"
        if not columns:
            message = f"the CSV needs a header row naming its columns: {', '.join(ROW_FIELDS)}"
        raise InvalidInput(message, {"customers": [message]})
    rows = []
    try:
        for row in reader:
            if len(rows) >= _max_rows():
                _too_many()
            extra = row.pop(None, None)  # type: ignore[call-overload]
            cells = {k: v for k, v in row.items() if v not in (None, "")}
            if extra:
                cells["_extra"] = extra
            rows.append(_typed(cells))
    except csv.Error as error:
        message = f"unreadable CSV at line {reader.line_num}: {error}"
        raise InvalidInput(message, {"customers": [message]}) from None
    return rows


def _typed(cells: dict[str, Any]) -> dict[str, Any]:
    """Text cells as the JSON types the schema takes (left as text when they are not)."""
    typed: dict[str, Any] = dict(cells)
    for name in (*_INTEGERS, "severity"):
        value = typed.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            typed[name] = int(value)
    for name in _BOOLEANS:
        value = typed.get(name)
        if isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
            typed[name] = value.strip().lower() in _TRUE
    return typed


def _load(body: dict[str, Any]) -> dict[str, Any]:
    """Validate the whole request (422 naming every bad field, rows numbered from 1)."""
    errors: dict[str, list[str]] = {}
    for number, row in enumerate(body.get("customers") or [], start=1):
        if isinstance(row, dict) and "_extra" in row:
            errors[f"customers.{number}"] = ["more cells than the header names"]
            row.pop("_extra")
    try:
        data = MassIncidentRequestSchema().load(body)
    except ValidationError as error:
        errors.update(flatten(error.messages))
        data = None
    if errors or data is None:
        names = ", ".join(sorted(errors)[:10])
        raise InvalidInput(f"Invalid fields: {names}", errors)
    return data


def _incidents(data: dict[str, Any], team: str, engine: Any) -> list[Incident]:
    """Each customer's incident: the shared fields under its own; every row checked (money for
    its currency, a currency finance has capped, no customer twice) before any is kept."""
    shared = data["incident"]
    probe = canonical_incident(engine.catalog, _probe(shared))  # 422: unknown category, touchpoint
    category, touchpoint = probe.category, probe.touchpoint
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    incidents = []
    # One failure, one clock: the promises of every customer count from when it reached them,
    # or from now (its declaration), not from when the job gets to each customer.
    shared = {**shared, "reported_at": shared.get("reported_at") or utcnow()}
    for number, row in enumerate(data["customers"], start=1):
        given = {k: v for k, v in row.items() if v is not None}
        merged = {**shared, **given, "category": category, "touchpoint": touchpoint}
        where = f"customers.{number}"
        currency = merged["currency"]
        if not engine.caps.supports(currency):
            errors[f"{where}.currency"] = [f"no caps are configured for {currency}"]
        for name in ("customer_value", "loss_amount"):
            try:
                check_amount(merged[name], currency)
            except MoneyError as error:
                errors[f"{where}.{name}"] = [str(error)]
        first = seen.setdefault(merged["customer_id"], number)
        if first != number:
            errors[f"{where}.customer_id"] = [f"appears more than once (first in row {first})"]
        merged.setdefault("customer_status", "active")
        merged.setdefault("external_id", None)
        merged.setdefault("reach", None)
        incidents.append(incident_from_request({"incident": merged}, team))
    if errors:
        names = ", ".join(sorted(errors)[:10])
        raise InvalidInput(f"Invalid fields: {names}", errors)
    return incidents


def _probe(shared: dict[str, Any]) -> Incident:
    """An incident holding only the shared fields (to normalise the category and the
    touchpoint once)."""
    return Incident(
        customer_id="-",
        severity=shared["severity"],
        fault_type=FaultType(shared["fault_type"]),
        customer_value=0,  # type: ignore[arg-type]
        loss_amount=0,  # type: ignore[arg-type]
        currency=shared.get("currency") or "EUR",
        category=shared["category"],
        touchpoint=shared.get("touchpoint"),
    )

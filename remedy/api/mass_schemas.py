"""The mass incidents API's schemas (the OpenAPI contract of remedy/api/mass_incidents.py).

What each customer may say for itself (`ROW_FIELDS`) is the row's; everything else is the
incident's, said once."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from remedy.api.fields import StrictBoolean, UtcDateTime, currency_field
from remedy.api.jobs import JobSchema, ProgressSchema
from remedy.api.schemas import SLUG, IncidentSchema
from remedy.domain import CHANNELS, CUSTOMER_STATUSES
from remedy.services.mass_states import CUSTOMER_STATES, MAX_LISTED, STATUSES

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

"""GET /v1/customers/<id>/history and GET /v1/customers/repeat-victims.

What we gave a customer before and how it went (an agent reads it beside the plans, a lead on
its desk), and the customers we failed again and again. The service
(remedy/services/customers.py) reads them within the caller's team; this view says plans by
their labels in the reader's language and money as decimal strings.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.reading import current_reader
from remedy.extensions import session
from remedy.moments import as_utc
from remedy.money import from_minor
from remedy.presenting import presenters
from remedy.services.customers import (
    CustomerService,
    History,
    HistoryEntry,
    RepeatVictim,
    Summary,
)

blp = Blueprint(
    "customers", __name__, url_prefix="/v1", description="Customers' histories, repeat victims"
)

PROMISE_STATES = "kept, broken, unrecorded (a plan was given, no moment recorded), open; null: none"


class CustomerHistoryArgs(Schema):
    """A page of the history."""

    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))
    before = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "the cursor: `next_before` of the previous page"},
    )


class GivenAmountSchema(Schema):
    """An amount in one currency."""

    currency = fields.String()
    amount = fields.String()


class CustomerHistoryOutcomeSchema(Schema):
    """What happened after the plan."""

    retained = fields.Boolean()
    observed_at = fields.String()
    responded_at = fields.String(allow_none=True)
    fixed_at = fields.String(allow_none=True)
    csat = fields.Integer(allow_none=True)


class CustomerHistoryEntrySchema(Schema):
    """One earlier decision of the customer."""

    decision_id = fields.String()
    decided_at = fields.String()
    external_id = fields.String(allow_none=True)
    team = fields.String()
    status = fields.String()
    severity = fields.Integer()
    fault_type = fields.String()
    category = fields.String()
    currency = fields.String()
    loss_amount = fields.String()
    plan = fields.List(
        fields.String(), metadata={"description": "the accepted plan by its labels (empty: none)"}
    )
    plan_cost = fields.String(allow_none=True)
    given = fields.String(
        metadata={"description": "what the customer got: committed, plus reserved while open"}
    )
    apology_only = fields.Boolean(
        metadata={"description": "a limit blocked every plan but an apology"}
    )
    respond_promise = fields.String(allow_none=True, metadata={"description": PROMISE_STATES})
    fix_promise = fields.String(allow_none=True, metadata={"description": PROMISE_STATES})
    respond_by = fields.String(allow_none=True)
    fix_by = fields.String(allow_none=True)
    outcome = fields.Nested(CustomerHistoryOutcomeSchema, allow_none=True)


class CustomerHistorySummarySchema(Schema):
    """The newest 500 decisions of the customer, added up."""

    decisions = fields.Integer()
    incidents = fields.Integer(metadata={"description": "tickets (external_id), not decisions"})
    plans_given = fields.Integer()
    given = fields.List(fields.Nested(GivenAmountSchema))
    promises_kept = fields.Integer()
    promises_broken = fields.Integer()
    stayed = fields.Boolean(
        allow_none=True, metadata={"description": "the latest recorded outcome; null: none"}
    )
    last_at = fields.String(allow_none=True)


class CustomerHistorySchema(Schema):
    """A page of a customer's history, newest first."""

    customer_id = fields.String()
    summary = fields.Nested(CustomerHistorySummarySchema)
    entries = fields.List(fields.Nested(CustomerHistoryEntrySchema))
    next_before = fields.String(
        allow_none=True, metadata={"description": "the cursor of the next page (null: no more)"}
    )


class RepeatArgs(Schema):
    """The window and how many customers."""

    days = fields.Integer(
        load_default=60,
        validate=validate.Range(min=1, max=366),
        metadata={"description": "the window, ending now"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class RepeatVictimSchema(Schema):
    """A customer with at least two incidents in the window."""

    customer_id = fields.String()
    incidents = fields.Integer(metadata={"description": "tickets (external_id), not decisions"})
    decisions = fields.Integer()
    teams = fields.List(fields.String())
    first_at = fields.String()
    last_at = fields.String()
    plans_given = fields.Integer()
    apology_only = fields.Integer(metadata={"description": "answers a limit cut to an apology"})
    given = fields.List(fields.Nested(GivenAmountSchema))
    outcomes = fields.Integer()
    lost = fields.Integer(metadata={"description": "outcomes where the customer left"})
    stayed = fields.Boolean(
        allow_none=True, metadata={"description": "the latest recorded outcome; null: none"}
    )


class RepeatVictimsSchema(Schema):
    """Repeat victims, most incidents first."""

    days = fields.Integer()
    truncated = fields.Boolean()
    customers = fields.List(fields.Nested(RepeatVictimSchema))


def _amounts(given: dict[str, int]) -> list[dict[str, str]]:
    """Minor units per currency as the answer writes them."""
    return [
        {"currency": currency, "amount": str(from_minor(minor, currency))}
        for currency, minor in given.items()
    ]


def _iso(moment: Any) -> str | None:
    """A stored moment as the answer writes it."""
    return None if moment is None else as_utc(moment).isoformat()


def _entry(entry: HistoryEntry) -> dict[str, Any]:
    """One history entry, plans said by their labels for the caller."""
    decision, record, outcome = entry.decision, entry.record, entry.outcome
    incident = record.incident
    plan = entry.plan
    say, _ = presenters(record, current_reader())
    return {
        "decision_id": decision.id,
        "decided_at": _iso(decision.created_at),
        "external_id": decision.external_id,
        "team": decision.team,
        "status": decision.status,
        "severity": incident.severity,
        "fault_type": str(incident.fault_type),
        "category": incident.category,
        "currency": decision.currency,
        "loss_amount": str(incident.loss_amount),
        "plan": [] if plan is None else [say.label(item) for item in plan.items],
        "plan_cost": None if plan is None else str(plan.total_cost),
        "given": str(from_minor(entry.given_minor, decision.currency)),
        "apology_only": entry.apology_only,
        "respond_promise": entry.respond,
        "fix_promise": entry.fix,
        "respond_by": _iso(entry.deadlines.respond_by),
        "fix_by": _iso(entry.deadlines.fix_by),
        "outcome": None
        if outcome is None
        else {
            "retained": outcome.retained,
            "observed_at": _iso(outcome.observed_at),
            "responded_at": _iso(outcome.responded_at),
            "fixed_at": _iso(outcome.fixed_at),
            "csat": outcome.csat,
        },
    }


def _summary(summary: Summary) -> dict[str, Any]:
    """The customer's totals."""
    return {
        "decisions": summary.decisions,
        "incidents": summary.incidents,
        "plans_given": summary.plans_given,
        "given": _amounts(summary.given),
        "promises_kept": summary.kept,
        "promises_broken": summary.broken,
        "stayed": summary.stayed,
        "last_at": _iso(summary.last_at),
    }


def _victim(victim: RepeatVictim) -> dict[str, Any]:
    """One repeat victim."""
    return {
        "customer_id": victim.customer_id,
        "incidents": victim.incidents,
        "decisions": victim.decisions,
        "teams": victim.teams,
        "first_at": _iso(victim.first_at),
        "last_at": _iso(victim.last_at),
        "plans_given": victim.plans_given,
        "apology_only": victim.apology_only,
        "given": _amounts(victim.given),
        "outcomes": victim.outcomes,
        "lost": victim.lost,
        "stayed": victim.stayed,
    }


@blp.route("/customers/<string:customer_id>/history")
class CustomerHistory(MethodView):
    """A customer's earlier incidents."""

    @roles("agent", "finance")
    @blp.arguments(CustomerHistoryArgs, location="query")
    @blp.response(200, CustomerHistorySchema)
    def get(self, args: dict[str, Any], customer_id: str) -> dict[str, Any]:
        """The customer's decisions, newest first: the plan given, whether only an apology
        could be offered, the outcome and whether each promise was kept; with a summary. A
        team-scoped key sees its own team's decisions only; an unknown customer has an empty
        history."""
        history: History = CustomerService(session()).history(
            current_principal(), customer_id, args["limit"], args["before"]
        )
        return {
            "customer_id": history.customer_id,
            "summary": _summary(history.summary),
            "entries": [_entry(entry) for entry in history.entries],
            "next_before": history.next_before,
        }


@blp.route("/customers/repeat-victims")
class RepeatVictims(MethodView):
    """Customers failed again and again."""

    @roles("lead", "finance")
    @blp.arguments(RepeatArgs, location="query")
    @blp.response(200, RepeatVictimsSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Customers with two or more incidents (tickets) in the last `days` days, most first:
        counts, what they were given per currency, whether they stayed. A team-scoped key
        counts its own team's decisions only."""
        victims, truncated = CustomerService(session()).repeat_victims(
            current_principal(), args["days"], args["limit"]
        )
        return {
            "days": args["days"],
            "truncated": truncated,
            "customers": [_victim(victim) for victim in victims],
        }

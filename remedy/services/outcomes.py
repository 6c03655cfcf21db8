"""Outcomes: what happened after an accepted plan — the labels the model learns from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models.features import FEATURE_VERSION, feature_matrix, row_to_bytes
from remedy.decisions.record import GIVEN, DecisionRecord
from remedy.decisions.stored import PricedItem, incident_from_json
from remedy.domain import Plan
from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.ledger.periods import as_utc
from remedy.money import MoneyError, check_amount, from_minor, to_minor
from remedy.services.keys import Principal
from remedy.services.notifications import PROMISE_BROKEN, emit
from remedy.store import audit
from remedy.store.tables import Decision, Outcome, utcnow

# Clocks differ a little between help desks and us; further in the future is a typo.
OBSERVED_AT_SKEW = timedelta(hours=24)


@dataclass(frozen=True)
class RecordedOutcome:
    """A stored outcome with its decision's currency (its revenue is in minor units of it)."""

    outcome: Outcome
    currency: str


def _snapshot(outcome: Outcome, currency: str) -> dict[str, Any]:
    """An outcome as the audit log keeps it (money as a decimal string)."""
    return {
        "decision_id": outcome.decision_id,
        "plan_id": outcome.plan_id,
        "retained": outcome.retained,
        "observed_at": outcome.observed_at,
        "referrals": outcome.referrals,
        "revenue_after": (
            None
            if outcome.revenue_after_minor is None
            else str(from_minor(outcome.revenue_after_minor, currency))
        ),
        "currency": currency,
        "csat": outcome.csat,
        "responded_at": outcome.responded_at,
        "fixed_at": outcome.fixed_at,
        "recorded_by": outcome.recorded_by,
    }


class OutcomeService:
    """Records one outcome per decision; a second report updates it (audited)."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def record(
        self,
        decision_id: str,
        retained: bool,
        observed_at: datetime,
        actor: str,
        referrals: int | None = None,
        revenue_after: Decimal | None = None,
        csat: int | None = None,
        principal: Principal | None = None,
        responded_at: datetime | None = None,
        fixed_at: datetime | None = None,
    ) -> tuple[RecordedOutcome, bool]:
        """Store or update the outcome; return it and whether it was created."""
        decision = self.session.get(Decision, decision_id)
        if decision is None or (principal is not None and not principal.sees(decision.team)):
            raise NotFound(f"no decision {decision_id!r}", {"decision_id": ["unknown decision"]})
        if decision.status not in GIVEN or not decision.accepted_plan_id:
            raise Conflict(
                f"decision {decision_id} is {decision.status}: outcomes are for accepted plans",
                {"decision_id": [f"not accepted (status {decision.status})"]},
            )
        now = utcnow()
        if observed_at > now + OBSERVED_AT_SKEW:
            raise InvalidInput("observed_at is in the future", {"observed_at": ["in the future"]})
        if observed_at < decision.created_at:
            raise InvalidInput(
                "observed_at is before the decision was made",
                {"observed_at": ["before the decision"]},
            )
        revenue_minor = None
        if revenue_after is not None:
            try:
                revenue_minor = to_minor(
                    check_amount(revenue_after, decision.currency), decision.currency
                )
            except MoneyError as error:
                raise InvalidInput(str(error), {"revenue_after": [str(error)]}) from None
        # The clock starts when the customer complained, not when the agent asked: an answer
        # or a fix before the decision but after the complaint is real (a first reply, a
        # refund already on its way) and counts against the promises.
        reported = DecisionRecord.of(decision).incident.reported_at or decision.created_at
        for name, moment in (("responded_at", responded_at), ("fixed_at", fixed_at)):
            if moment is not None and not as_utc(reported) <= moment <= now + OBSERVED_AT_SKEW:
                raise InvalidInput(
                    f"{name} must be between when the customer complained and now",
                    {name: ["before the incident was reported or in the future"]},
                )
        values = {
            "plan_id": decision.accepted_plan_id,
            "plan_items": plan_items(decision.priced_items, decision.accepted_plan_id),
            **training_row(decision, decision.accepted_plan_id),
            "responded_at": responded_at,
            "fixed_at": fixed_at,
            "retained": retained,
            "observed_at": observed_at,
            "referrals": referrals,
            "revenue_after_minor": revenue_minor,
            "csat": csat,
            "recorded_by": actor,
        }
        outcome = self.session.get(Outcome, decision_id)
        created = outcome is None
        before = None if created else _snapshot(outcome, decision.currency)
        was_broken = (
            set()
            if created
            else set(broken_promises(decision, outcome.responded_at, outcome.fixed_at))
        )
        if created:
            outcome = Outcome(decision_id=decision_id, **values)
            self.session.add(outcome)
        else:
            for key, value in values.items():
                setattr(outcome, key, value)
        outcome.recorded_at = now
        self.session.flush()
        after = _snapshot(outcome, decision.currency)
        broken = broken_promises(decision, responded_at, fixed_at)
        if set(broken) - was_broken:
            emit(
                self.session,
                PROMISE_BROKEN,
                decision.team,
                {
                    "decision_id": decision.id,
                    "customer_id": decision.customer_id,
                    "external_id": decision.external_id,
                    "promises": {
                        name: {"due": due.isoformat(), "late_seconds": late}
                        for name, (due, late) in broken.items()
                    },
                },
                now,
            )
        audit.record(
            self.session,
            actor,
            "create" if created else "update",
            "outcome",
            decision_id,
            _jsonable(before),
            _jsonable(after),
        )
        return RecordedOutcome(outcome, decision.currency), created


def broken_promises(
    decision: Decision, responded_at: datetime | None, fixed_at: datetime | None
) -> dict[str, tuple[datetime, int]]:
    """The promises an outcome's times broke: `respond` and `fix` -> (when it was due, seconds
    late), read from the accepted plan's talking points (`respond_by`, `fix_by`); none for
    decisions stored before those were recorded."""
    record = DecisionRecord.of(decision)
    shown = record.presentation.get(decision.accepted_plan_id or "")
    points = shown.talking_points if shown is not None else {}
    broken = {}
    for name, key, moment in (
        ("respond", "respond_by", responded_at),
        ("fix", "fix_by", fixed_at),
    ):
        due = points.get(key)
        if moment is None or not due:
            continue
        due_at = as_utc(datetime.fromisoformat(due))
        if as_utc(moment) > due_at:
            broken[name] = (due_at, int((as_utc(moment) - due_at).total_seconds()))
    return broken


def plan_items(priced: dict[str, Any], plan_id: str) -> dict[str, Any]:
    """Return the decision's priced items that make up the plan `plan_id` (ids joined by "+").

    Stored with the outcome so that training reads a few items per row, not every item the
    decision priced (training/read_logs.py).
    """
    return {item: priced[item] for item in plan_id.split("+") if item in priced}


def training_row(decision: Decision, plan_id: str) -> dict[str, Any]:
    """Return what retraining reads of the plan: its feature row and its cost in minor units.

    Computed once here, with the one feature definition (models/features.py), so that
    retraining on a million outcomes reads 17 floats a row instead of rebuilding every plan
    (training/read_logs.py). A plan with an item the decision did not price (the service never
    offers one) gets none; training would then rebuild the row from the priced items, as it does
    for outcomes recorded before these columns existed.
    """
    priced = decision.priced_items
    ids = plan_id.split("+")
    if not all(i in priced for i in ids):
        return {"features": None, "features_version": None, "plan_cost_minor": None}
    actions = tuple(PricedItem.from_json(priced[i]).action(i) for i in ids)
    plan = Plan(actions, decision.currency)
    row = feature_matrix(incident_from_json(decision.incident), [plan])[0]
    return {
        "features": row_to_bytes(row),
        "features_version": FEATURE_VERSION,
        "plan_cost_minor": to_minor(plan.total_cost, decision.currency),
    }


def _jsonable(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """Make a view storable as JSON."""
    if view is None:
        return None
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in view.items()}

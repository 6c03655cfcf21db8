"""What a reservation step takes and gives (`Planned`, `Reserved`, `StepResult`, `PoolRanOut`)
and the checks a step makes before it touches money (the decision's status, the plan that
may be accepted, a plan's fix part): shared by remedy/services/reserving.py, the lifecycle and
mass incidents."""

from __future__ import annotations

from dataclasses import dataclass

from remedy.decisions.record import DecisionRecord, StoredCandidate
from remedy.errors import Conflict, InvalidInput
from remedy.facts import Fact
from remedy.ledger.limits import (
    fix_share,
)
from remedy.money import to_minor
from remedy.store.tables import Decision, Reservation


@dataclass(frozen=True)
class Planned:
    """A proposed plan to reserve, with what it costs as computed when it was decided: its
    cost and fix part in minor units and its contact level (remedy/services/mass_incidents.py
    stores them, so a batch need not read every decision's candidates again)."""

    decision_id: str
    plan_id: str
    customer_id: str
    currency: str
    amount_minor: int
    fix_minor: int
    contact_level: str | None
    team: str = ""


@dataclass(frozen=True)
class Reserved:
    """What `reserve_many` did with one plan: `reserved`, `refused` (the limit named in
    `reason`) or `skipped` (its decision is no longer proposed)."""

    plan: Planned
    state: str
    reason: list[Fact]  # the limits that refused it, as facts (empty: reserved or skipped)


class PoolRanOut(Exception):
    """A batch would break its pool (or its team has none): nothing of it may be reserved.
    `limits` says which pool and by how much, as facts."""

    def __init__(self, limits: list[Fact]) -> None:
        """Keep the facts of the pool that ran out."""
        super().__init__(", ".join(limit.code for limit in limits))
        self.limits = limits


@dataclass(frozen=True)
class StepResult:
    """A decision after a lifecycle step, with its reservation (if it holds one)."""

    decision: Decision
    reservation: Reservation | None


def expect_status(decision: Decision, action: str, statuses: tuple[str, ...]) -> None:
    """Refuse a step the decision's status does not allow."""
    if decision.status not in statuses:
        message = (
            f"decision {decision.id} is {decision.status}; {action} needs it to be "
            f"{' or '.join(statuses)}"
        )
        raise Conflict(message, {"status": [message]})


def fix_part(record: DecisionRecord, candidate: StoredCandidate, amount_minor: int) -> int:
    """The part of a plan's cost (`amount_minor`) that is its fix, spent from the fix line.

    The fix is what its priced items of a fix kind cost, never more than the plan's whole cost.
    """
    return fix_share(
        amount_minor, to_minor(record.plan(candidate).fix_cost, record.incident.currency)
    )


def acceptable(decision: Decision, plan_id: str) -> StoredCandidate:
    """Return the decision's candidate `plan_id` if it may be accepted, else refuse (422)."""
    candidate = DecisionRecord.of(decision).candidate(plan_id)
    if candidate is None:
        raise InvalidInput(
            f"plan {plan_id!r} is not a plan of decision {decision.id}",
            {"plan_id": [f"not a plan of decision {decision.id}"]},
        )
    if candidate.ruled_out:
        code = candidate.dropped_reason.code if candidate.dropped_reason else "cap"
        raise InvalidInput(
            f"plan {plan_id!r} was ruled out by the guardrails ({code})",
            {"plan_id": [f"ruled out by the guardrails ({code})"]},
        )
    return candidate

"""Short prompts for the agent (not a script to paste), said in the customer's language.

The order follows what the literature says matters: acknowledge with empathy (#13), own the fault
where it is ours (#26: accepting blame beats everything else), the fix at once (#12, #18/#19:
speed: the fix named with its amount and its deadline), the extra, then the follow-up. The
promises come from the caps document: `respond_within` (30 minutes, 15 for severe incidents by
default; #13: a late apology hurts) and, when we or a partner are at fault, `fix_within` (an
hour by default; #18/#19: resolved quickly, 82-95% come back). The prompts name this incident's
fix, extras, amounts and deadline, so the agent says them in their own words; they are facts
(codes with typed parameters) that `remedy.presenting` says from the gettext catalogs.

The promises count from when the customer first complained (`reported_at`), not from when the
agent asked: the talking points carry `respond_by` and `fix_by` as UTC times, and a customer who
has already waited past the answer's deadline is thanked for their patience first (`Clock`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remedy.decisions.caps import Promises
from remedy.decisions.durations import duration_seconds
from remedy.domain import OVERDELIVERY_KINDS, Action, FaultType, Incident, Kind, Plan
from remedy.facts import Fact, Item, Money, Seconds, fact

_OWN = {
    FaultType.COMPANY: "point_own_company",
    FaultType.PARTNER: "point_own_partner",
    FaultType.UNKNOWN: "point_own_unknown",
    FaultType.CUSTOMER: "point_own_customer",
}


def talking_points(
    incident: Incident, plan: Plan, promises: Promises, at: datetime | None = None
) -> dict[str, object]:
    """Return the promises (respond within, fix within; respond by, fix by as UTC times
    counted from `incident.reported_at`) and the prompts for one plan, as facts the presenter
    says in the customer's language. `at` is when the decision is made: a customer who has
    already waited past the answer's deadline hears an apology for the wait first."""
    clock = Clock.of(incident, promises, at)
    fix_within = promises.fix_by(incident)
    points = [fact("point_acknowledge")]
    if clock.answer_overdue:
        points.append(fact("point_waited", waited=Seconds(clock.waited_said)))
    if incident.prior_incidents:
        points.append(fact("point_repeat", n=incident.prior_incidents + 1))
    points.append(fact(_OWN[incident.fault_type]))
    fix = plan.fix
    if fix is not None:
        label, amount = Item(fix.item_id), Money(fix.value, plan.currency)
        if fix.value >= incident.loss_amount and fix_within is not None:
            points.append(
                fact(
                    "point_fix_whole_late" if clock.fix_overdue else "point_fix_whole",
                    fix_within=Seconds(duration_seconds(fix_within)),
                    label=label,
                    amount=amount,
                )
            )
        else:
            points.append(fact("point_fix", label=label, amount=amount))
    elif incident.loss_amount == 0:
        points.append(fact("point_what_fixed"))
    else:
        points.append(fact("point_next_step"))
    if incident.customer_status == "left":
        points.append(fact("point_open_door"))
    elif incident.threatens_to_leave:
        points.append(fact("point_stay"))
    points += [p for p in (_extra(a, plan.currency) for a in plan.actions) if p is not None]
    points.append(fact("point_follow_up", n=24 if incident.severity >= 4 else 72))
    return {
        "respond_within": promises.respond_by(incident),
        "fix_within": fix_within,
        "respond_by": _moment(clock.respond_by),
        "fix_by": _moment(clock.fix_by),
        "points": points,
    }


@dataclass(frozen=True)
class Clock:
    """The promises of one incident as moments: when the customer complained, when the decision
    is made (`at`), and the promised durations (seconds; no fix promise when None)."""

    reported_at: datetime
    at: datetime
    respond_within: int
    fix_within: int | None

    @classmethod
    def of(cls, incident: Incident, promises: Promises, at: datetime | None = None) -> Clock:
        """The clock of `incident` under `promises`, read at `at` (default: when it was
        reported, so nothing is overdue; an incident without `reported_at` starts at `at`)."""
        reported = incident.reported_at or at or datetime.now(UTC)
        fix_within = promises.fix_by(incident)
        return cls(
            reported,
            at or reported,
            duration_seconds(promises.respond_by(incident)),
            None if fix_within is None else duration_seconds(fix_within),
        )

    @property
    def respond_by(self) -> datetime:
        """When the answer is due."""
        return self.reported_at + timedelta(seconds=self.respond_within)

    @property
    def fix_by(self) -> datetime | None:
        """When the fix is due (None: no fix is promised)."""
        if self.fix_within is None:
            return None
        return self.reported_at + timedelta(seconds=self.fix_within)

    @property
    def waited(self) -> int:
        """Whole seconds the customer has waited when the decision is made."""
        return max(0, int((self.at - self.reported_at).total_seconds()))

    @property
    def waited_said(self) -> int:
        """The wait as said to a person: whole days from two days, whole hours from two hours,
        whole minutes below (nobody counts the seconds)."""
        for size in (86400, 3600):
            if self.waited >= 2 * size:
                return self.waited // size * size
        return max(60, self.waited // 60 * 60)

    @property
    def answer_overdue(self) -> bool:
        """The decision is made after the answer was due."""
        return self.at > self.respond_by

    @property
    def fix_overdue(self) -> bool:
        """The decision is made after the fix was due (only when a fix is promised)."""
        fix_by = self.fix_by
        return fix_by is not None and self.at > fix_by

    def notes(self) -> list[Fact]:
        """What the agent reads when the answer (and the fix) are already late, as facts."""
        waited = Seconds(self.waited_said)
        notes = []
        if self.answer_overdue:
            within = Seconds(self.respond_within)
            notes.append(fact("answer_overdue", waited=waited, respond_within=within))
        if self.fix_overdue and self.fix_within is not None:
            within = Seconds(self.fix_within)
            notes.append(fact("fix_overdue", waited=waited, fix_within=within))
        return notes


def _moment(moment: datetime | None) -> str | None:
    """A moment as the talking points store it: ISO 8601 in UTC."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _extra(action: Action, currency: str) -> Fact | None:
    """The prompt for one overdelivery action (None for the apology and the fix)."""
    if action.kind not in OVERDELIVERY_KINDS:
        return None
    label = Item(action.item_id)
    if action.kind == Kind.PERSONAL_CONTACT:
        if action.level == "leader":
            return fact("point_leader", label=label)
        return fact("point_arrange", label=label)
    if action.value:
        return fact("point_surprise_amount", label=label, amount=Money(action.value, currency))
    return fact("point_surprise", label=label)

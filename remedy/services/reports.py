"""Finance's reports: spend from the ledger's reservations, and recurring failures by cost.

Amounts are summed in minor units per currency; each report is a list of typed rows (the
API's schemas write them, as JSON or CSV). Rows are grouped in Python after one query each, so
the reports read the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import DecisionRecord
from remedy.domain import FIX_KINDS
from remedy.errors import InvalidInput
from remedy.ledger.periods import period_at
from remedy.moments import as_utc
from remedy.money import to_minor
from remedy.store.scoping import in_team
from remedy.store.tables import Decision, Outcome, Reservation

GROUPS = ("period", "team", "fault_type", "category", "kind")
PERIOD_KINDS = ("day", "week", "month")
SHARE = Decimal("0.0001")  # shares are reported to four places
MINUTES = Decimal("0.1")  # durations to a tenth of a minute


@dataclass(frozen=True)
class SpendLine:
    """What one line of the pools (fix or overdelivery money) spent for a group."""

    currency: str
    committed_minor: int
    reserved_minor: int


@dataclass(frozen=True)
class SpendRow:
    """Spend of one group in one currency, and its fix part (the rest is overdelivery)."""

    group: str
    currency: str
    committed_minor: int
    reserved_minor: int
    plans: int
    fix_committed_minor: int = 0
    fix_reserved_minor: int = 0

    @property
    def fix(self) -> SpendLine:
        """What fixes (refunds, credits, redos) spent: the pools' fix lines."""
        return SpendLine(self.currency, self.fix_committed_minor, self.fix_reserved_minor)

    @property
    def overdelivery(self) -> SpendLine:
        """What overdelivery (gifts, upgrades, contact) spent: the pools' overdelivery lines."""
        return SpendLine(
            self.currency,
            self.committed_minor - self.fix_committed_minor,
            self.reserved_minor - self.fix_reserved_minor,
        )


@dataclass(frozen=True)
class DiagnoseRow:
    """Incidents, remedy cost and retention of one month, category and fault in one currency."""

    month: str
    category: str
    fault_type: str
    currency: str
    incidents: int
    remedy_cost_minor: int
    outcomes: int
    retained: int
    lost_customer_value_minor: int

    @property
    def retention(self) -> Decimal | None:
        """Share of recorded outcomes that stayed (None without outcomes)."""
        if not self.outcomes:
            return None
        return (Decimal(self.retained) / self.outcomes).quantize(SHARE)

    @property
    def cost_to_company_minor(self) -> int:
        """What the remedies cost plus the annual value of the customers who left."""
        return self.remedy_cost_minor + self.lost_customer_value_minor


@dataclass(frozen=True)
class Kept:
    """How one promise was kept: how many, the share kept, p50 and p90 in minutes."""

    count: int
    kept_share: Decimal | None
    p50_minutes: Decimal | None
    p90_minutes: Decimal | None


@dataclass(frozen=True)
class PromisesRow:
    """Time to respond and to fix for one category and team."""

    category: str
    team: str
    respond: Kept
    fix: Kept


# The longest range a report reads inside a request (REMEDY_REPORT_MAX_DAYS): its work grows
# with the decisions logged in it (~0.8 ms each), so 1970-8999 is refused, not read.
MAX_RANGE_DAYS = 366


def check_range(start: datetime, end: datetime, max_days: int = MAX_RANGE_DAYS) -> None:
    """Refuse an empty or inverted range, or one longer than `max_days`, naming `to`."""
    if end <= start:
        raise InvalidInput("to must be after from", {"to": ["must be after from"]})
    if end - start > timedelta(days=max_days):
        message = f"must be at most {max_days} days after from; ask for shorter ranges"
        raise InvalidInput(f"the range is longer than {max_days} days", {"to": [message]})


def period_key(kind: str, at: datetime) -> str:
    """Return the key of the day, ISO week or month holding `at` (UTC)."""
    if kind == "day":
        return as_utc(at).date().isoformat()
    return period_at(kind, at).key


def _split_by_kind(decision: Decision, amount_minor: int) -> dict[str, int]:
    """Share an accepted plan's amount among its actions' kinds, by their listed cost."""
    record = DecisionRecord.of(decision)
    candidate = record.candidate(decision.accepted_plan_id or "")
    weights: dict[str, int] = defaultdict(int)
    for item in candidate.items if candidate else ():
        priced = record.priced_items[item]
        weights[str(priced.kind)] += to_minor(priced.cost, decision.currency)
    total = sum(weights.values())
    if not total:
        return {"unknown": amount_minor}
    shares, given = {}, 0
    kinds = sorted(weights)
    for kind in kinds[:-1]:
        shares[kind] = amount_minor * weights[kind] // total
        given += shares[kind]
    shares[kinds[-1]] = amount_minor - given  # the remainder, so shares add up exactly
    return shares


def _group_of(group_by: str, period: str, reservation: Reservation, decision: Decision) -> str:
    """Return the group a reservation falls in (group_by is not `kind`)."""
    if group_by == "period":
        return period_key(period, reservation.created_at)
    if group_by == "category":
        return DecisionRecord.of(decision).incident.category
    return getattr(decision, group_by)


class ReportService:
    """Reads spend and failure reports; writes nothing."""

    def __init__(self, session: Session, max_days: int = MAX_RANGE_DAYS) -> None:
        """Read through `session`, ranges of at most `max_days`."""
        self.session = session
        self.max_days = max_days

    def spend(
        self,
        start: datetime,
        end: datetime,
        group_by: str = "period",
        period: str = "month",
        team: str | None = None,
    ) -> list[SpendRow]:
        """Committed and reserved spend of plans accepted in [start, end), grouped (one team's
        decisions only when `team` is given: a team-scoped key's view)."""
        check_range(start, end, self.max_days)
        if group_by not in GROUPS:
            raise InvalidInput(
                f"unknown group_by {group_by!r}", {"group_by": [f"one of {', '.join(GROUPS)}"]}
            )
        if period not in PERIOD_KINDS:
            raise InvalidInput(
                f"unknown period {period!r}", {"period": [f"one of {', '.join(PERIOD_KINDS)}"]}
            )
        rows = self.session.execute(
            sa.select(Reservation, Decision)
            .join(Decision, Decision.id == Reservation.decision_id)
            .where(Reservation.created_at >= start, Reservation.created_at < end)
            .where(in_team(team))
        )
        # committed, reserved, plans, fix committed, fix reserved
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for reservation, decision in rows:
            is_open = reservation.state == "open"
            held = reservation.reserved_minor if is_open else 0
            if group_by == "kind":
                committed = _split_by_kind(decision, reservation.committed_minor)
                reserved = _split_by_kind(decision, held)
                for kind in set(committed) | set(reserved):
                    total = totals[(kind, reservation.currency)]
                    total[0] += committed.get(kind, 0)
                    total[1] += reserved.get(kind, 0)
                    total[2] += 1
                    if kind in FIX_KINDS:  # a fix kind's whole spend is fix money
                        total[3] += committed.get(kind, 0)
                        total[4] += reserved.get(kind, 0)
                continue
            group = _group_of(group_by, period, reservation, decision)
            total = totals[(group, reservation.currency)]
            total[0] += reservation.committed_minor
            total[1] += held
            total[2] += 1
            total[3] += reservation.fix_committed_minor
            total[4] += reservation.fix_reserved_minor if is_open else 0
        return [
            SpendRow(group, currency, *amounts)
            for (group, currency), amounts in sorted(totals.items())
        ]

    def promises(
        self, start: datetime, end: datetime, team: str | None = None
    ) -> list[PromisesRow]:
        """Time to respond and time to fix against the promises, by category and team.

        For decisions made in [start, end) whose outcome says when the agent answered
        (`responded_at`) or when the fix was done (`fixed_at`): how many, the share that kept
        the decision's promise (`respond_within`, `fix_within` as its talking points said),
        and the 50th and 90th percentile in minutes, counted from when the customer
        complained (the incident's `reported_at`; the decision's time for decisions stored
        before it). Slowest groups first.
        """
        check_range(start, end, self.max_days)
        rows = self.session.execute(
            sa.select(Decision, Outcome)
            .join(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.created_at >= start, Decision.created_at < end)
            .where(sa.or_(Outcome.responded_at.is_not(None), Outcome.fixed_at.is_not(None)))
            .where(in_team(team))
        )
        groups: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = defaultdict(
            lambda: {"respond": [], "fix": []}
        )
        for decision, outcome in rows:
            record = DecisionRecord.of(decision)
            points = next(iter(record.presentation.values()), None)
            said = points.talking_points if points else {}
            group = groups[(record.incident.category, decision.team)]
            reported = as_utc(record.incident.reported_at or decision.created_at)
            for name, moment, promise in (
                ("respond", outcome.responded_at, said.get("respond_within")),
                ("fix", outcome.fixed_at, said.get("fix_within")),
            ):
                if moment is not None and promise:
                    took = (as_utc(moment) - reported).total_seconds()
                    group[name].append((took, duration_seconds(promise)))
        report = [
            PromisesRow(category, team, _kept(times["respond"]), _kept(times["fix"]))
            for (category, team), times in groups.items()
        ]

        def slowest(row: PromisesRow) -> tuple[Decimal, str, str]:
            share = row.respond.kept_share
            return (share if share is not None else Decimal(1), row.category, row.team)

        return sorted(report, key=slowest)

    def diagnose(
        self, start: datetime, end: datetime, team: str | None = None
    ) -> list[DiagnoseRow]:
        """Incidents, remedy cost and retention per month, category and fault type.

        Ranked by cost to the company: what the remedies cost plus the annual value of the
        customers who left (from recorded outcomes), so recurring, costly failures come first.
        """
        check_range(start, end, self.max_days)
        rows = self.session.execute(
            sa.select(Decision, Reservation, Outcome)
            .outerjoin(Reservation, Reservation.decision_id == Decision.id)
            .outerjoin(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.created_at >= start, Decision.created_at < end)
            .where(in_team(team))
        )
        groups: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(
            lambda: defaultdict(int)
        )
        for decision, reservation, outcome in rows:
            incident = DecisionRecord.of(decision).incident
            key = (
                period_key("month", decision.created_at),
                incident.category,
                decision.fault_type,
                decision.currency,
            )
            group = groups[key]
            group["incidents"] += 1
            if reservation is not None:
                held = reservation.reserved_minor if reservation.state == "open" else 0
                group["cost"] += reservation.committed_minor + held
            if outcome is not None:
                group["outcomes"] += 1
                group["retained"] += outcome.retained
                if not outcome.retained:
                    group["lost"] += to_minor(incident.customer_value, decision.currency)
        report = [
            DiagnoseRow(
                month,
                category,
                fault_type,
                currency,
                incidents=g["incidents"],
                remedy_cost_minor=g["cost"],
                outcomes=g["outcomes"],
                retained=g["retained"],
                lost_customer_value_minor=g["lost"],
            )
            for (month, category, fault_type, currency), g in groups.items()
        ]
        report.sort(key=lambda r: (-r.cost_to_company_minor, r.month, r.category, r.fault_type))
        return report


def _percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted `values` (no interpolation: a time that happened)."""
    index = max(0, math.ceil(share * len(values)) - 1)
    return values[index]


def _kept(times: list[tuple[float, float]]) -> Kept:
    """Share of promises kept and the 50th/90th percentile, in minutes, of (took, promised)."""
    if not times:
        return Kept(0, None, None, None)
    took = sorted(t for t, _ in times)
    kept = sum(1 for t, promised in times if t <= promised)

    def minutes(seconds: float) -> Decimal:
        return Decimal(f"{seconds / 60:.1f}").quantize(MINUTES)

    return Kept(
        count=len(times),
        kept_share=(Decimal(kept) / len(times)).quantize(SHARE),
        p50_minutes=minutes(_percentile(took, 0.5)),
        p90_minutes=minutes(_percentile(took, 0.9)),
    )

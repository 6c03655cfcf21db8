"""Finance's and leads' reports: spend from the ledger's reservations, the promises kept,
recurring failures by cost (diagnose) and the honesty audit (touchpoints by cost).

Amounts are summed in minor units per currency; each report is a list of typed rows (the
API's schemas write them, as JSON or CSV). Diagnose and the audit count tickets, not decisions
(a ticket asked twice counts once), and read the ticket rollup (remedy/services/rollups.py)
with one grouped SQL statement each, so their time grows with the groups, not the decisions;
`diagnose_of` and `audit_of` compute the same rows from tickets computed from the raw tables
(the reference the rollup is tested against). Spend and promises read the range's rows, their
columns only (never a decision's JSON): spend grouped in SQL, promises in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.record import DecisionRecord
from remedy.domain import FIX_KINDS
from remedy.errors import InvalidInput
from remedy.ledger.periods import period_at
from remedy.moments import as_utc
from remedy.money import to_minor
from remedy.services.rollups import Tally
from remedy.store.scoping import in_team
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation

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
    """Tickets, remedy cost and retention of one month, category and fault in one currency.

    `incidents` counts tickets (a ticket asked twice is one incident, in the month and category
    of its first decision), `decisions` the decisions they took; a ticket has an outcome when any
    of its decisions has one, and is lost (its customer's annual value counted once) when any
    outcome says the customer left."""

    month: str
    category: str
    fault_type: str
    currency: str
    incidents: int
    remedy_cost_minor: int
    outcomes: int
    retained: int
    lost_customer_value_minor: int
    decisions: int = 0

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
class AuditRow:
    """What one touchpoint's failures cost in one currency over the range, and the trend.

    Counted by ticket: remedies given (committed money plus what open reservations hold), the
    annual value of customers lost (tickets whose outcome says the customer left), promises
    broken (per ticket, the answer promise and the fix promise each count once when any of its
    outcomes records a time later than promised: 0 to 2 a ticket), and repeat victims
    (customers with two or more tickets at this touchpoint in the range). `previous_*` is the
    period of equal length just before."""

    touchpoint: str | None
    currency: str
    tickets: int
    decisions: int
    remedies_minor: int
    lost_customers: int
    lost_customer_value_minor: int
    respond_broken: int
    fix_broken: int
    repeat_victims: int
    previous_tickets: int
    previous_cost_minor: int

    @property
    def promises_broken(self) -> int:
        """Answer and fix promises broken, each counted once a ticket."""
        return self.respond_broken + self.fix_broken

    @property
    def cost_minor(self) -> int:
        """What the touchpoint's failures cost: remedies given plus customer value lost."""
        return self.remedies_minor + self.lost_customer_value_minor

    @property
    def cost_change_minor(self) -> int:
        """The cost against the previous period (positive: it got worse)."""
        return self.cost_minor - self.previous_cost_minor

    @property
    def cost_change_share(self) -> Decimal | None:
        """The change as a share of the previous period's cost (None when it cost nothing)."""
        if not self.previous_cost_minor:
            return None
        return (Decimal(self.cost_change_minor) / self.previous_cost_minor).quantize(SHARE)


@dataclass(frozen=True)
class AuditReport:
    """The touchpoints, costliest first, and the two periods compared."""

    start: datetime
    end: datetime
    previous_start: datetime
    rows: list[AuditRow]


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


def _utc_day(session: Session, column: Any) -> sa.ColumnElement[str]:
    """A moment column's UTC day as 'YYYY-MM-DD' (SQLite keeps UTC moments as ISO text)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD")
    return sa.func.substr(column, 1, 10)


def _spend_rows(totals: dict[tuple[str, str], list[int]]) -> list[SpendRow]:
    """The rows of summed spend, by group and currency."""
    return [
        SpendRow(group, currency, *amounts) for (group, currency), amounts in sorted(totals.items())
    ]


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
        if group_by != "kind":
            return self._spend_by_column(start, end, group_by, period, team)
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
        return _spend_rows(totals)

    def _spend_by_column(
        self, start: datetime, end: datetime, group_by: str, period: str, team: str | None
    ) -> list[SpendRow]:
        """Spend grouped by a column (the UTC day for periods, team, fault type, category) in
        one grouped statement: its time grows with the groups, never a decision's JSON."""
        r, d = Reservation, Decision
        is_open = r.state == "open"
        column = {
            "period": _utc_day(self.session, r.created_at),
            "team": d.team,
            "fault_type": d.fault_type,
            "category": sa.func.coalesce(d.category, "other"),
        }[group_by]
        rows = self.session.execute(
            sa.select(
                column.label("key"),
                r.currency,
                sa.func.sum(r.committed_minor),
                sa.func.sum(sa.case((is_open, r.reserved_minor), else_=0)),
                sa.func.count(),
                sa.func.sum(r.fix_committed_minor),
                sa.func.sum(sa.case((is_open, r.fix_reserved_minor), else_=0)),
            )
            .join(d, d.id == r.decision_id)
            .where(r.created_at >= start, r.created_at < end)
            .where(in_team(team))
            .group_by(column, r.currency)
        )
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        for key, currency, *amounts in rows:
            if group_by == "period":  # a UTC day: into its day, ISO week or month
                day = date.fromisoformat(key)
                key = period_key(period, datetime(day.year, day.month, day.day, tzinfo=UTC))
            total = totals[(key, currency)]
            for index, amount in enumerate(amounts):
                total[index] += int(amount or 0)
        return _spend_rows(totals)

    def promises(
        self, start: datetime, end: datetime, team: str | None = None
    ) -> list[PromisesRow]:
        """Time to respond and time to fix against the promises, by category and team.

        For decisions made in [start, end) whose outcome says when the agent answered
        (`responded_at`) or when the fix was done (`fixed_at`): how many, the share that kept
        the decision's promise (`respond_within`, `fix_within` as its talking points said),
        and the 50th and 90th percentile in minutes, counted from when the customer
        complained (the incident's `reported_at`; the decision's time for decisions stored
        before it). Slowest groups first. Reads the outcomes' timing columns (seconds taken and
        promised, kept as outcomes are written: remedy/services/rollups.py), never the JSON.
        """
        check_range(start, end, self.max_days)
        d, o = Decision, Outcome
        rows = self.session.execute(
            sa.select(
                d.team,
                d.category,
                o.respond_seconds,
                o.respond_within_seconds,
                o.fix_seconds,
                o.fix_within_seconds,
            )  # fmt: skip
            .join(o, o.decision_id == d.id)
            .where(d.created_at >= start, d.created_at < end)
            .where(sa.or_(o.respond_seconds.is_not(None), o.fix_seconds.is_not(None)))
            .where(in_team(team))
        )
        groups: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = defaultdict(
            lambda: {"respond": [], "fix": []}
        )
        for team_, category, respond, respond_within, fix, fix_within in rows:
            group = groups[(category or "other", team_)]
            if respond is not None:
                group["respond"].append((respond, respond_within))
            if fix is not None:
                group["fix"].append((fix, fix_within))
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
        """Tickets, remedy cost and retention per month, category and fault type, for the
        tickets first asked in [start, end) (DiagnoseRow says how tickets count).

        Ranked by cost to the company: what the remedies cost plus the annual value of the
        customers who left (from recorded outcomes), so recurring, costly failures come first.
        One grouped statement over the ticket rollup.
        """
        check_range(start, end, self.max_days)
        t = ReportTicket
        has_outcome = t.outcomes > 0
        rows = self.session.execute(
            sa.select(
                t.month,
                t.category,
                t.fault_type,
                t.currency,
                sa.func.count(),
                sa.func.sum(t.decisions),
                sa.func.sum(t.committed_minor + t.reserved_minor),
                _count(has_outcome),
                _count(sa.and_(has_outcome, t.lost == 0)),
                sa.func.sum(sa.case((t.lost > 0, t.customer_value_minor), else_=0)),
            )
            .where(t.first_at >= start, t.first_at < end, in_team(team, t.team))
            .group_by(t.month, t.category, t.fault_type, t.currency)
        )
        return _ranked_diagnose(
            DiagnoseRow(
                *key,
                incidents=int(tickets),
                remedy_cost_minor=int(cost or 0),
                outcomes=int(outcomes or 0),
                retained=int(retained or 0),
                lost_customer_value_minor=int(lost or 0),
                decisions=int(decisions or 0),
            )
            for *key, tickets, decisions, cost, outcomes, retained, lost in rows
        )

    def audit(self, start: datetime, end: datetime, team: str | None = None) -> AuditReport:
        """The honesty audit: touchpoints ranked by what their failures cost over the tickets
        first asked in [start, end), with the period of equal length before (AuditRow says how
        each figure counts). Three grouped statements over the ticket rollup."""
        check_range(start, end, self.max_days)
        previous_start = start - (end - start)
        now = self._audit_groups(start, end, team)
        before = self._audit_groups(previous_start, start, team)
        repeats = self._repeat_victims(start, end, team)
        rows = [
            AuditRow(
                touchpoint,
                currency,
                *figures,
                repeat_victims=repeats.get((touchpoint, currency), 0),
                previous_tickets=before.get((touchpoint, currency), _NONE)[0],
                previous_cost_minor=_cost(before.get((touchpoint, currency), _NONE)),
            )
            for (touchpoint, currency), figures in now.items()
        ]
        return AuditReport(start, end, previous_start, _ranked_audit(rows))

    def _audit_groups(
        self, start: datetime, end: datetime, team: str | None
    ) -> dict[tuple[str | None, str], tuple[int, ...]]:
        """Per touchpoint and currency: tickets, decisions, remedies, lost customers, their
        value, answers late, fixes late."""
        t = ReportTicket
        rows = self.session.execute(
            sa.select(
                t.touchpoint,
                t.currency,
                sa.func.count(),
                sa.func.sum(t.decisions),
                sa.func.sum(t.committed_minor + t.reserved_minor),
                _count(t.lost > 0),
                sa.func.sum(sa.case((t.lost > 0, t.customer_value_minor), else_=0)),
                _count(t.respond_late > 0),
                _count(t.fix_late > 0),
            )
            .where(t.first_at >= start, t.first_at < end, in_team(team, t.team))
            .group_by(t.touchpoint, t.currency)
        )
        return {
            (touchpoint, currency): tuple(int(value or 0) for value in figures)
            for touchpoint, currency, *figures in rows
        }

    def _repeat_victims(
        self, start: datetime, end: datetime, team: str | None
    ) -> dict[tuple[str | None, str], int]:
        """Per touchpoint and currency: customers with two or more tickets there in the range."""
        t = ReportTicket
        victims = (
            sa.select(t.touchpoint, t.currency, t.customer_id)
            .where(t.first_at >= start, t.first_at < end, in_team(team, t.team))
            .group_by(t.touchpoint, t.currency, t.customer_id)
            .having(sa.func.count() >= 2)
            .subquery()
        )
        rows = self.session.execute(
            sa.select(victims.c.touchpoint, victims.c.currency, sa.func.count()).group_by(
                victims.c.touchpoint, victims.c.currency
            )
        )
        return {(touchpoint, currency): int(n) for touchpoint, currency, n in rows}


# tickets, decisions, remedies, lost customers, lost value, answers late, fixes late
_NONE = (0, 0, 0, 0, 0, 0, 0)


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): the rows of a group that meet it."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _cost(figures: tuple[int, ...]) -> int:
    """Remedies plus lost customer value, from a group's figures."""
    return figures[2] + figures[4]


def _ranked_diagnose(rows: Iterable[DiagnoseRow]) -> list[DiagnoseRow]:
    """Costliest first; ties by month, category and fault."""
    return sorted(
        rows,
        key=lambda r: (-r.cost_to_company_minor, r.month, r.category, r.fault_type, r.currency),
    )


def _ranked_audit(rows: Iterable[AuditRow]) -> list[AuditRow]:
    """Costliest first, then most promises broken, then most tickets; ties by name."""
    return sorted(
        rows,
        key=lambda r: (
            -r.cost_minor,
            -r.promises_broken,
            -r.tickets,
            r.touchpoint or "",
            r.currency,
        ),
    )


def _in(tally: Tally, start: datetime, end: datetime, team: str | None) -> bool:
    """Whether a ticket was first asked in [start, end) (and is `team`'s, when given)."""
    return start <= tally.first_at < end and (team is None or tally.team == team)


def diagnose_of(
    tallies: Iterable[Tally], start: datetime, end: datetime, team: str | None = None
) -> list[DiagnoseRow]:
    """The diagnose report computed in Python from tickets (rollups.raw_tickets: the raw rows)."""
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for tally in tallies:
        if not _in(tally, start, end, team):
            continue
        group = groups[(tally.month, tally.category, tally.fault_type, tally.currency)]
        group[0] += 1
        group[1] += tally.decisions
        group[2] += tally.committed_minor + tally.reserved_minor
        group[3] += tally.outcomes > 0
        group[4] += tally.outcomes > 0 and tally.lost == 0
        group[5] += tally.customer_value_minor if tally.lost else 0
    return _ranked_diagnose(
        DiagnoseRow(
            *key,
            incidents=g[0],
            remedy_cost_minor=g[2],
            outcomes=g[3],
            retained=g[4],
            lost_customer_value_minor=g[5],
            decisions=g[1],
        )
        for key, g in groups.items()
    )


def audit_of(
    tallies: Iterable[Tally], start: datetime, end: datetime, team: str | None = None
) -> AuditReport:
    """The audit computed in Python from tickets (rollups.raw_tickets: the raw rows)."""
    tallies = list(tallies)
    previous_start = start - (end - start)

    def groups(low: datetime, high: datetime) -> dict[tuple[str | None, str], list[int]]:
        found: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0] * 7)
        for tally in tallies:
            if not _in(tally, low, high, team):
                continue
            group = found[(tally.touchpoint, tally.currency)]
            for index, value in enumerate(
                (
                    1,
                    tally.decisions,
                    tally.committed_minor + tally.reserved_minor,
                    tally.lost > 0,
                    tally.customer_value_minor if tally.lost else 0,
                    tally.respond_late > 0,
                    tally.fix_late > 0,
                )
            ):
                group[index] += value
        return found

    now, before = groups(start, end), groups(previous_start, start)
    customers: dict[tuple[str | None, str, str], int] = defaultdict(int)
    for tally in tallies:
        if _in(tally, start, end, team):
            customers[(tally.touchpoint, tally.currency, tally.customer_id)] += 1
    repeats: dict[tuple[str | None, str], int] = defaultdict(int)
    for (touchpoint, currency, _customer), tickets in customers.items():
        repeats[(touchpoint, currency)] += tickets >= 2
    rows = [
        AuditRow(
            touchpoint,
            currency,
            *figures,
            repeat_victims=repeats[(touchpoint, currency)],
            previous_tickets=tuple(before.get((touchpoint, currency), _NONE))[0],
            previous_cost_minor=_cost(tuple(before.get((touchpoint, currency), _NONE))),
        )
        for (touchpoint, currency), figures in now.items()
    ]
    return AuditReport(start, end, previous_start, _ranked_audit(rows))


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

"""Finance's and leads' reports: spend from the ledger's reservations, the promises kept,
recurring failures by cost (diagnose) and the honesty audit (touchpoints by cost).

Amounts are summed in minor units per currency; each report is a list of typed rows (the
API's schemas write them, as JSON or CSV). Diagnose and the audit count tickets, not decisions
(a ticket asked twice counts once), and read the ticket rollup (remedy/services/rollups.py)
with one grouped SQL statement each, so their time grows with the groups, not the decisions;
`diagnose_of` and `audit_of` (report_reference.py) compute the same rows from the raw tables'
tickets (the reference the rollup is tested against). Spend and promises read the range's
rows, their columns only (never a decision's JSON): spend grouped in SQL, promises in Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
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
from remedy.services.report_reference import NO_FIGURES, cost_of, ranked_audit, ranked_diagnose
from remedy.services.report_rows import (
    MINUTES,
    SHARE,
    AuditReport,
    AuditRow,
    DiagnoseRow,
    Kept,
    PromisesRow,
    SpendRow,
)
from remedy.store.scoping import in_team
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation

GROUPS = ("period", "team", "fault_type", "category", "kind")
PERIOD_KINDS = ("day", "week", "month")


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
        return ranked_diagnose(
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
                previous_tickets=before.get((touchpoint, currency), NO_FIGURES)[0],
                previous_cost_minor=cost_of(before.get((touchpoint, currency), NO_FIGURES)),
            )
            for (touchpoint, currency), figures in now.items()
        ]
        return AuditReport(start, end, previous_start, ranked_audit(rows))

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


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): the rows of a group that meet it."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


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

"""The diagnose and audit reports computed in Python from tickets (rollup_rebuild.raw_tickets:
the raw rows): the reference the rollup-read reports are tested against, and the ranking both
share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from remedy.services.report_rows import AuditReport, AuditRow, DiagnoseRow
from remedy.services.rollups import Tally

# tickets, decisions, remedies, lost customers, lost value, answers late, fixes late
NO_FIGURES = (0, 0, 0, 0, 0, 0, 0)


def cost_of(figures: tuple[int, ...]) -> int:
    """Remedies plus lost customer value, from a group's figures."""
    return figures[2] + figures[4]


def ranked_diagnose(rows: Iterable[DiagnoseRow]) -> list[DiagnoseRow]:
    """Costliest first; ties by month, category and fault."""
    return sorted(
        rows,
        key=lambda r: (-r.cost_to_company_minor, r.month, r.category, r.fault_type, r.currency),
    )


def ranked_audit(rows: Iterable[AuditRow]) -> list[AuditRow]:
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
    """The diagnose report computed in Python from tickets (rollup_rebuild.raw_tickets)."""
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
    return ranked_diagnose(
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
    """The audit computed in Python from tickets (rollup_rebuild.raw_tickets: the raw rows)."""
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
            previous_tickets=tuple(before.get((touchpoint, currency), NO_FIGURES))[0],
            previous_cost_minor=cost_of(tuple(before.get((touchpoint, currency), NO_FIGURES))),
        )
        for (touchpoint, currency), figures in now.items()
    ]
    return AuditReport(start, end, previous_start, ranked_audit(rows))

"""The reports' rollup: one `report_tickets` row per ticket, kept in the writing transaction.

Reports used to read every decision of the range with its JSON (~0.8 ms a decision: 80 s at
100,000). Now every flush that writes a decision, a reservation or an outcome adds what it
changed to its ticket's row in the same transaction (an `after_flush` listener, like the cache
generation's: no write path can forget it, and a rollback takes the change back with it), with
`UPDATE ... SET n = n + delta` so concurrent writers never lose each other's counts. A report
then groups ticket rows in SQL (remedy/services/reports.py).

A ticket is the help desk's `external_id` within a team and currency; a decision without one is
its own ticket. It belongs to the month, category, fault type, touchpoint and customer of its
first decision; its counters add up all its decisions: remedies given (committed money plus
what open reservations hold), outcomes, outcomes where the customer left, and outcomes that
answered or fixed after the decision's promise (a promise is broken when the outcome records
the time and it is later than promised; an outcome without the time breaks nothing).

`raw_tickets` (rollup_rebuild.py) computes the same rows from the raw tables (the reference
the rollup is tested against, and what `rebuild` writes for rows stored before the rollup
existed). Writes that bypass the ORM (bulk inserts) must call `rebuild` afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import incident_from_json, promises_from_json
from remedy.moments import as_utc, utcnow
from remedy.money import to_minor
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation

# The counters a write adds to (the rest of a row is set once, by its first decision).
COUNTERS = (
    "decisions",
    "committed_minor",
    "reserved_minor",
    "outcomes",
    "lost",
    "respond_late",
    "fix_late",
)


def ticket_of(decision: Any) -> str:
    """The ticket a decision belongs to: its `external_id`, else the decision itself."""
    if decision.external_id:
        return f"e:{decision.external_id}"
    return f"d:{decision.id}"


@dataclass
class Tally:
    """One ticket's row, as the rollup holds it."""

    team: str
    ticket: str
    currency: str
    first_at: datetime
    month: str
    category: str
    fault_type: str
    touchpoint: str | None
    customer_id: str
    customer_value_minor: int
    decisions: int = 0
    committed_minor: int = 0
    reserved_minor: int = 0
    outcomes: int = 0
    lost: int = 0
    respond_late: int = 0
    fix_late: int = 0

    def add(self, counts: dict[str, int]) -> None:
        """Add a write's counts."""
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)

    def as_row(self) -> dict[str, Any]:
        """The row's columns."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def first_tally(decision: Any) -> Tally:
    """A ticket's row as its first decision (a Decision, or a row of its columns) opens it."""
    incident = incident_from_json(decision.incident)
    at = as_utc(decision.created_at or utcnow())
    return Tally(
        team=decision.team,
        ticket=ticket_of(decision),
        currency=decision.currency,
        first_at=at,
        month=at.strftime("%Y-%m"),
        category=incident.category,
        fault_type=decision.fault_type,
        touchpoint=incident.touchpoint,
        customer_id=decision.customer_id,
        customer_value_minor=to_minor(incident.customer_value, decision.currency),
    )


def reported_at(decision: Any) -> datetime:
    """When the customer complained: the promises count from it (the decision's time for
    incidents stored before `reported_at`)."""
    return as_utc(incident_from_json(decision.incident, decision.created_at).reported_at)


def took(decision: Any, moment: datetime | None, promise: str | None) -> float | None:
    """Seconds from the complaint to `moment` (None without a moment or a promise to keep)."""
    if moment is None or not promise:
        return None
    return (as_utc(moment) - reported_at(decision)).total_seconds()


def late(
    decision: Any, responded_at: datetime | None, fixed_at: datetime | None
) -> tuple[bool, bool]:
    """Whether an outcome answered, and fixed, later than the decision promised (counted from
    the incident's `reported_at`, as GET /v1/reports/promises counts). `decision` is a
    Decision or a row of its columns (incident, presentation, created_at)."""
    if responded_at is None and fixed_at is None:
        return False, False
    respond_within, fix_within = promises_from_json(decision.presentation)

    def broken(moment: datetime | None, promise: str | None) -> bool:
        seconds = took(decision, moment, promise)
        return seconds is not None and seconds > duration_seconds(promise or "")

    return broken(responded_at, respond_within), broken(fixed_at, fix_within)


def outcome_counts(
    decision: Any,
    retained: bool | None,
    responded_at: datetime | None,
    fixed_at: datetime | None,
) -> dict[str, int]:
    """What one outcome (its values at one moment) counts on its ticket."""
    respond_late, fix_late = late(decision, responded_at, fixed_at)
    return {
        "outcomes": 1,
        "lost": int(not retained),
        "respond_late": int(respond_late),
        "fix_late": int(fix_late),
    }


# -- keeping the rollup as rows are written ------------------------------------------------------


def _before(row: Any, name: str) -> Any:
    """An attribute's value before this flush (its committed value)."""
    history = sa.inspect(row).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(row, name)


def _changed(row: Any, names: Iterable[str]) -> bool:
    """Whether this flush changes any of `names` on `row`."""
    state = sa.inspect(row)
    return any(state.attrs[name].history.has_changes() for name in names)


def _decision(session: Session, decision_id: str) -> Decision | None:
    """The decision a reservation or an outcome belongs to (usually already loaded)."""
    with session.no_autoflush:
        return session.get(Decision, decision_id)


def _open_counting(session: Session, tally: Tally) -> None:
    """Open a new decision's ticket and count the decision on it, in one statement: an insert
    with `decisions = 1` (the first writer's attributes win), or `decisions + 1` on the row an
    earlier decision of the ticket opened (a stored decision used to cost two statements)."""
    row = tally.as_row()
    row["decisions"] = 1
    session.connection().execute(_statements(session).open_counting, row)


@dataclass(frozen=True)
class _Statements:
    """The rollup's upsert for one dialect, built once (building it per write was a
    measurable part of storing a decision)."""

    open_counting: Any


_BUILT: dict[str, _Statements] = {}


def _statements(session: Session) -> _Statements:
    dialect = session.get_bind().dialect.name
    built = _BUILT.get(dialect)
    if built is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        table = ReportTicket.__table__
        values = {f.name: sa.bindparam(f.name) for f in fields(Tally)}
        keys = ["team", "ticket", "currency"]
        built = _BUILT[dialect] = _Statements(
            open_counting=insert(table)
            .values(values)
            .on_conflict_do_update(index_elements=keys, set_={"decisions": table.c.decisions + 1}),
        )
    return built


def _add(session: Session, decision: Decision, counts: dict[str, int]) -> None:
    """Add `counts` to the row of `decision`'s ticket, atomically."""
    counts = {name: value for name, value in counts.items() if value}
    if not counts:
        return
    table = ReportTicket.__table__
    session.connection().execute(
        sa.update(table)
        .where(
            table.c.team == decision.team,
            table.c.ticket == ticket_of(decision),
            table.c.currency == decision.currency,
        )
        .values({name: table.c[name] + value for name, value in counts.items()})
    )


def held_minor(state: str | None, reserved: int | None) -> int:
    """What a reservation holds while open (counted as given until it is committed or freed)."""
    return (reserved or 0) if state == "open" else 0


def _reservation_delta(session: Session, reservation: Reservation, new: bool) -> None:
    names = ("state", "committed_minor", "reserved_minor")
    if not new and not _changed(reservation, names):
        return
    decision = _decision(session, reservation.decision_id)
    if decision is None:
        return
    committed = reservation.committed_minor or 0
    held = held_minor(reservation.state, reservation.reserved_minor)
    if not new:
        committed -= _before(reservation, "committed_minor") or 0
        held -= held_minor(_before(reservation, "state"), _before(reservation, "reserved_minor"))
    _add(session, decision, {"committed_minor": committed, "reserved_minor": held})


def _outcome_delta(session: Session, outcome: Outcome, new: bool) -> None:
    names = ("retained", "responded_at", "fixed_at")
    if not new and not _changed(outcome, names):
        return
    decision = _decision(session, outcome.decision_id)
    if decision is None:
        return
    after = outcome_counts(decision, outcome.retained, outcome.responded_at, outcome.fixed_at)
    if not new:
        before = outcome_counts(decision, *(_before(outcome, name) for name in names))
        after = {name: after[name] - before[name] for name in after}
    _add(session, decision, after)


def timings(decision: Any, responded_at: datetime | None, fixed_at: datetime | None) -> dict:
    """An outcome's seconds to answer and to fix, and the promises held against them (the
    outcome's columns the promises report reads)."""
    respond_within, fix_within = promises_from_json(decision.presentation)
    respond = took(decision, responded_at, respond_within)
    fix = took(decision, fixed_at, fix_within)
    return {
        "respond_seconds": respond,
        "respond_within_seconds": None if respond is None else duration_seconds(respond_within),
        "fix_seconds": fix,
        "fix_within_seconds": None if fix is None else duration_seconds(fix_within),
    }


@sa.event.listens_for(Session, "before_flush")
def _copy_columns(session: Session, _context: Any, _instances: Any) -> None:
    """Copy a new decision's category and touchpoint out of its incident JSON, and a new or
    changed outcome's timings (columns the reports read instead of the JSON)."""
    for row in session.new:
        if isinstance(row, Decision) and row.incident and row.category is None:
            incident = incident_from_json(row.incident)
            row.category, row.touchpoint = incident.category, incident.touchpoint
    for row in (*session.new, *session.dirty):
        if not isinstance(row, Outcome):
            continue
        if row not in session.new and not _changed(row, ("responded_at", "fixed_at")):
            continue
        decision = _decision(session, row.decision_id)
        if decision is not None:
            for name, value in timings(decision, row.responded_at, row.fixed_at).items():
                setattr(row, name, value)


@sa.event.listens_for(Session, "after_flush")
def _roll_up(session: Session, _context: Any) -> None:
    """Add what this flush wrote to its tickets' rows (same transaction)."""
    new, dirty = list(session.new), list(session.dirty)
    if not any(isinstance(row, (Decision, Reservation, Outcome)) for row in (*new, *dirty)):
        return
    for row in new:
        if isinstance(row, Decision):
            _open_counting(session, first_tally(row))
    for row in new:
        if isinstance(row, Reservation):
            _reservation_delta(session, row, new=True)
        elif isinstance(row, Outcome):
            _outcome_delta(session, row, new=True)
    for row in dirty:
        if isinstance(row, Reservation):
            _reservation_delta(session, row, new=False)
        elif isinstance(row, Outcome):
            _outcome_delta(session, row, new=False)


def timings_names() -> tuple[str, ...]:
    """The outcome's timing columns, as `timings` names them."""
    return ("respond_seconds", "respond_within_seconds", "fix_seconds", "fix_within_seconds")


def register_rollup() -> None:
    """Keep the rollup (importing this module registers the listener; create_app calls this
    so the import is explicit)."""


# -- from the raw rows --------------------------------------------------------------------------

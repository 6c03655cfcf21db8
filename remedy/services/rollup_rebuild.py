"""The reports' rollup computed from the raw rows: `raw_tickets` (every ticket's row from the
decisions, reservations and outcomes themselves: the reference the rollup is tested against)
and `rebuild` (what `remedy reports rebuild` writes for rows stored before the rollup existed,
or written by bulk inserts that bypass the ORM). The rollup kept as rows are written:
remedy/services/rollups.py."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.services.rollups import (
    Tally,
    first_tally,
    held_minor,
    outcome_counts,
    ticket_of,
    timings,
    timings_names,
)
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation


def raw_tickets(session: Session, team: str | None = None) -> dict[tuple[str, str, str], Tally]:
    """Every ticket's row computed from the decisions, reservations and outcomes themselves
    (one team's when `team` is given), keyed by (team, ticket, currency)."""
    d, r, o = Decision, Reservation, Outcome
    query = (  # the columns a ticket needs, never the candidates' JSON
        sa.select(
            d.id,
            d.team,
            d.external_id,
            d.currency,
            d.created_at,
            d.fault_type,
            d.customer_id,
            d.incident,
            d.presentation,
            r.state,
            r.committed_minor,
            r.reserved_minor,
            o.retained,
            o.responded_at,
            o.fixed_at,
            o.decision_id.label("outcome"),
        )  # fmt: skip
        .outerjoin(r, r.decision_id == d.id)
        .outerjoin(o, o.decision_id == d.id)
        .order_by(d.created_at, d.id)
    )
    if team is not None:
        query = query.where(Decision.team == team)
    tallies: dict[tuple[str, str, str], Tally] = {}
    for row in session.execute(query):
        key = (row.team, ticket_of(row), row.currency)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = first_tally(row)
        tally.add({"decisions": 1})
        if row.state is not None:
            tally.add(
                {
                    "committed_minor": row.committed_minor,
                    "reserved_minor": held_minor(row.state, row.reserved_minor),
                }
            )
        if row.outcome is not None:
            tally.add(outcome_counts(row, row.retained, row.responded_at, row.fixed_at))
    return tallies


def rebuild(session: Session) -> int:
    """Replace the rollup with the rows computed from the raw tables (rows stored before the
    rollup, or bulk-inserted), and fill every outcome's timings; return the tickets written.
    Run it while nothing else writes."""
    d, o = Decision, Outcome
    timed = session.execute(
        sa.select(
            o.decision_id, o.responded_at, o.fixed_at, d.incident, d.presentation, d.created_at
        )
        .join(d, d.id == o.decision_id)
        .where(sa.or_(o.responded_at.is_not(None), o.fixed_at.is_not(None)))
    ).all()
    table = o.__table__
    update = (
        sa.update(table)
        .where(table.c.decision_id == sa.bindparam("outcome"))
        .values({name: sa.bindparam(name) for name in timings_names()})
    )
    for start in range(0, len(timed), 1000):
        batch = [
            {"outcome": row.decision_id, **timings(row, row.responded_at, row.fixed_at)}
            for row in timed[start : start + 1000]
        ]
        session.connection().execute(update, batch)
    session.execute(sa.delete(ReportTicket))
    tallies = list(raw_tickets(session).values())
    for start in range(0, len(tallies), 1000):
        session.execute(
            sa.insert(ReportTicket), [t.as_row() for t in tallies[start : start + 1000]]
        )
    return len(tallies)

"""A seeded month for the report tests (test_audit_report.py, test_report_rollup.py): decisions
of November (and a ticket in October, December and another team) written through the ORM in
several transactions, some rows changed after they were written; and a rollup row's columns as
the raw rows give them. The `month` fixture of tests/api/conftest.py seeds it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import Outcome, ReportTicket, Reservation
from tests.factories import decision_row

NOVEMBER = {"from": "2026-11-01", "to": "2026-12-01"}
PROMISES = {"respond_within": "PT30M", "fix_within": "PT1H"}


def day(n: int, month: int = 11, hour: int = 9) -> datetime:
    return datetime(2026, month, n, hour, tzinfo=UTC)


def decision(at: datetime, customer: str, team: str = "emea", **incident):
    """A decision made at `at` whose incident was reported then, promising PT30M and PT1H."""
    return decision_row(
        {"refund": ("50.00", False)},
        customer_id=customer,
        team=team,
        at=at,
        promises=PROMISES,
        reported_at=at,
        customer_value="1000.00",
        **incident,
    )


def reservation(row, state: str, committed: str = "0", reserved: str = "0") -> Reservation:
    at = row.created_at
    return Reservation(
        decision_id=row.id,
        plan_id="refund",
        state=state,
        currency=row.currency,
        pool_team=row.team,
        period_key=at.strftime("%Y-%m"),
        customer_id=row.customer_id,
        reserved_minor=int(reserved.replace(".", "")),
        committed_minor=int(committed.replace(".", "")),
        pool_version=1,
        caps_version=1,
        created_at=at,
        expires_at=at + timedelta(days=2),
        updated_at=at,
    )


def outcome(row, retained: bool, answered: int | None = None, fixed: int | None = None):
    """An outcome answering and fixing `answered` and `fixed` minutes after the report."""
    at = row.created_at
    return Outcome(
        decision_id=row.id,
        plan_id="refund",
        retained=retained,
        observed_at=at + timedelta(days=1),
        responded_at=None if answered is None else at + timedelta(minutes=answered),
        fixed_at=None if fixed is None else at + timedelta(minutes=fixed),
        recorded_by="test",
    )


def seed_month(app) -> dict[str, dict[str, str]]:
    """Seed November (and a ticket in October, December and another team), written through
    the ORM in several transactions, some rows changed after they were written; return the
    headers of a lead of emea and of apac."""
    with db.database(app).unit_of_work() as session:
        # courier: ticket Z-1 asked twice (70.00 given; the customer left: 1000.00; answered
        # 45 minutes late against 30), and a ticket without external_id for the same customer
        # (30.00 still reserved): customer A is a repeat victim.
        z1a = decision(day(3), "A", external_id="Z-1", touchpoint="courier")
        z1b = decision(day(4), "A", external_id="Z-1", touchpoint="courier")
        a2 = decision(day(10), "A", touchpoint="courier")
        # billing_run: B-1 200.00 committed, both promises broken, kept; B-2 reserved 80.00,
        # released later (counts nothing).
        b1 = decision(day(5), "B", external_id="B-1", touchpoint="billing_run")
        b2 = decision(day(6), "C", external_id="B-2", touchpoint="billing_run")
        # no touchpoint said: 5.00
        n1 = decision(day(7), "D")
        # October (the previous period): courier 10.00; December and another team: outside.
        z0 = decision(day(20, month=10), "E", external_id="Z-0", touchpoint="courier")
        dec = decision(day(2, month=12), "F", touchpoint="courier")
        apac = decision(day(8), "G", team="apac", external_id="Z-1", touchpoint="courier")
        rows = [z1a, z1b, a2, b1, b2, n1, z0, dec, apac]
        session.add_all(rows)
        session.flush()
        session.add_all(
            [
                reservation(z1a, "committed", committed="50.00"),
                reservation(z1b, "committed", committed="20.00"),
                reservation(a2, "open", reserved="30.00"),
                reservation(b1, "committed", committed="200.00"),
                reservation(b2, "open", reserved="80.00"),
                reservation(n1, "committed", committed="5.00"),
                reservation(z0, "committed", committed="10.00"),
                reservation(dec, "committed", committed="400.00"),
                reservation(apac, "committed", committed="9999.00"),
            ]
        )
        session.add_all(
            [
                outcome(z1b, retained=True, answered=45),
                outcome(b1, retained=True, answered=31, fixed=120),
                outcome(a2, retained=True, answered=10, fixed=50),
                outcome(apac, retained=False),
            ]
        )
        ids = {"z1b": z1b.id, "b2": b2.id}
    with db.database(app).unit_of_work() as session:  # later: the customer left; B-2 released
        session.get(Outcome, ids["z1b"]).retained = False
        held = session.scalar(sa.select(Reservation).where(Reservation.decision_id == ids["b2"]))
        held.state = "released"
    with db.database(app).unit_of_work() as session:
        lead, _ = KeyService(session).create("lead", team="emea", label="emea lead")
        other, _ = KeyService(session).create("lead", team="apac", label="apac lead")
    return {
        "emea": {"Authorization": f"Bearer {lead}"},
        "apac": {"Authorization": f"Bearer {other}"},
    }


def ticket_columns(row: ReportTicket) -> dict:
    """A rollup row's columns, its first moment in UTC (as the raw rows give them)."""
    values = {c.name: getattr(row, c.name) for c in ReportTicket.__table__.columns}
    values["first_at"] = values["first_at"].astimezone(UTC)
    return values

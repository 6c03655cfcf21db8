"""The ticket rollup the reports read equals the same reports computed from the raw rows, over
the seeded month (tests/api/report_month.py) and after cancels, overages and expiries."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import DecisionRecord
from remedy.extensions import db
from remedy.services.report_reference import audit_of, diagnose_of
from remedy.services.report_rows import PromisesRow
from remedy.services.reports import ReportService, _kept
from remedy.services.rollup_rebuild import raw_tickets, rebuild
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation, utcnow
from tests.api.report_month import ticket_columns
from tests.conftest import incident_payload
from tests.factories import set_pool


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-11-01", "2026-12-01"), ("2026-10-01", "2027-01-01"), ("2026-11-04", "2026-11-08")],
)
def test_the_rollup_equals_the_reports_from_raw_rows(month, app, start, end):
    low = datetime.fromisoformat(start).replace(tzinfo=UTC)
    high = datetime.fromisoformat(end).replace(tzinfo=UTC)
    with db.database(app).unit_of_work() as session:
        raw = raw_tickets(session)
        service = ReportService(session)
        for team in (None, "emea", "apac"):
            assert service.audit(low, high, team) == audit_of(raw.values(), low, high, team)
            assert service.diagnose(low, high, team) == diagnose_of(raw.values(), low, high, team)
            assert service.promises(low, high, team) == _promises_from_json(
                session, low, high, team
            )
        assert service.audit(low, high, "emea").rows  # not vacuous
        kept = {(r.team, r.ticket, r.currency): r for r in session.scalars(sa.select(ReportTicket))}
        assert {key: ticket_columns(row) for key, row in kept.items()} == {
            key: tally.as_row() for key, tally in raw.items()
        }
    with db.database(app).unit_of_work() as session:  # rebuilt from the raw rows: the same
        assert rebuild(session) == len(raw)
        rebuilt = {
            (r.team, r.ticket, r.currency): ticket_columns(r)
            for r in session.scalars(sa.select(ReportTicket))
        }
        assert rebuilt == {key: tally.as_row() for key, tally in raw.items()}


def _promises_from_json(session, start, end, team):
    """The promises report as it was computed before the outcomes kept their timings: from
    each decision's record (its talking points' promises and the incident's reported_at)."""
    query = (
        sa.select(Decision, Outcome)
        .join(Outcome, Outcome.decision_id == Decision.id)
        .where(Decision.created_at >= start, Decision.created_at < end)
    )
    if team is not None:
        query = query.where(Decision.team == team)
    groups = defaultdict(lambda: {"respond": [], "fix": []})
    for decision, outcome in session.execute(query):
        record = DecisionRecord.of(decision)
        said = next(iter(record.presentation.values())).talking_points
        reported = record.incident.reported_at
        for name, moment, promise in (
            ("respond", outcome.responded_at, said.get("respond_within")),
            ("fix", outcome.fixed_at, said.get("fix_within")),
        ):
            if moment is not None and promise:
                took = (moment.astimezone(UTC) - reported).total_seconds()
                groups[(record.incident.category, decision.team)][name].append(
                    (took, duration_seconds(promise))
                )
    rows = [
        PromisesRow(category, team_, _kept(times["respond"]), _kept(times["fix"]))
        for (category, team_), times in groups.items()
    ]
    return sorted(
        rows,
        key=lambda r: (
            r.respond.kept_share if r.respond.kept_share is not None else 1,
            r.category,
            r.team,
        ),
    )


def test_the_rollup_follows_cancels_overages_and_expiries(app, client, auth):
    """Cancelled, expired and over-cost plans (steps drive() never takes) keep the rollup equal
    to the tickets computed from the raw rows."""
    from click.testing import CliRunner

    from remedy.cli import cli

    set_pool(app, "emea", "50000.00")
    made = []
    for n in range(3):
        body = client.post(
            "/v1/recommendations",
            json={
                "incident": incident_payload(
                    customer_id=f"k{n}", external_id=f"K-{n}", touchpoint="courier"
                ),
                "team": "emea",
            },
            headers=auth(),
        ).json
        plan = next(p for p in body["plans"] if not p["requires_approval"])
        accepted = client.post(
            f"/v1/decisions/{body['decision_id']}/accept",
            json={"plan_id": plan["plan_id"]},
            headers=auth(),
        )
        assert accepted.status_code == 200, accepted.json
        made.append((body["decision_id"], plan))
    cancelled, over, expiring = made
    assert client.post(f"/v1/decisions/{cancelled[0]}/cancel", headers=auth()).status_code == 200
    more = f"{float(over[1]['total_cost']) + 50:.2f}"
    fulfilled = client.post(
        f"/v1/decisions/{over[0]}/fulfil",
        json={"actual_cost": more, "currency": "EUR"},
        headers=auth(),
    )
    assert fulfilled.json["status"] == "overage_pending_approval", fulfilled.json
    approved = client.post(
        f"/v1/decisions/{over[0]}/approve", json={"reason": "ok"}, headers=auth("finance")
    )
    assert approved.status_code == 200, approved.json
    # The third reservation's time passes (moved back in the table: a 1 s TTL made the first
    # one expire before its cancel on a loaded machine).
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(Reservation)
            .where(Reservation.decision_id == expiring[0])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    env = {"REMEDY_DATABASE_URL": app.config["DATABASE_URL"]}
    expired = CliRunner().invoke(cli, ["ledger", "expire"], env=env, catch_exceptions=False)
    assert "released 1 expired" in expired.output
    with db.database(app).unit_of_work() as session:
        raw = {key: tally.as_row() for key, tally in raw_tickets(session).items()}
        kept = {
            (r.team, r.ticket, r.currency): ticket_columns(r)
            for r in session.scalars(sa.select(ReportTicket))
        }
    assert kept == raw
    remedies = sorted(row["committed_minor"] + row["reserved_minor"] for row in raw.values())
    assert remedies[:2] == [0, 0]  # cancelled and expired: nothing given
    assert remedies[2] == int(more.replace(".", ""))  # the overage, committed in full

"""The honesty audit (GET /v1/reports/audit) and diagnose by ticket, over a seeded month; the
ticket rollup they read equals the same report computed from the raw rows."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import DecisionRecord
from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.services.report_reference import audit_of, diagnose_of
from remedy.services.report_rows import PromisesRow
from remedy.services.reports import ReportService, _kept
from remedy.services.rollup_rebuild import raw_tickets, rebuild
from remedy.store.tables import Decision, Outcome, ReportTicket, Reservation, utcnow
from tests.conftest import incident_payload
from tests.factories import decision_row, set_pool

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


@pytest.fixture
def month(app):
    """A seeded November (and a ticket in October, December and another team), written through
    the ORM in several transactions, some rows changed after they were written."""
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


def test_the_audit_ranks_touchpoints_by_cost_counted_by_ticket(month, client):
    response = client.get("/v1/reports/audit", query_string=NOVEMBER, headers=month["emea"])
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["from"][:10], body["to"][:10], body["previous_from"][:10]) == (
        "2026-11-01",
        "2026-12-01",
        "2026-10-02",
    )
    ranked = [(r["touchpoint"], r["cost"]) for r in body["rows"]]
    assert ranked == [("courier", "1100.00"), ("billing_run", "200.00"), (None, "5.00")]
    courier, billing, unsaid = body["rows"]
    assert courier == {
        "touchpoint": "courier",
        "currency": "EUR",
        "cost": "1100.00",
        "remedies": "100.00",  # 50 + 20 committed (one ticket), 30 still reserved
        "lost_customer_value": "1000.00",  # Z-1's customer left: counted once
        "lost_customers": 1,
        "promises_broken": 1,  # Z-1 answered 45 minutes after the report, promised 30
        "respond_broken": 1,
        "fix_broken": 0,
        "tickets": 2,  # Z-1 asked twice counts once; the decision without a ticket is one
        "decisions": 3,
        "repeat_victims": 1,  # customer A: two tickets at the courier
        "previous_cost": "10.00",
        "previous_tickets": 1,
        "cost_change": "1090.00",
        "cost_change_share": "109.0000",
    }
    assert (billing["tickets"], billing["remedies"], billing["promises_broken"]) == (2, "200.00", 2)
    assert (billing["respond_broken"], billing["fix_broken"], billing["repeat_victims"]) == (
        1,
        1,
        0,
    )
    assert billing["previous_cost"] == "0.00" and billing["cost_change_share"] is None
    assert (unsaid["tickets"], unsaid["cost"], unsaid["promises_broken"]) == (1, "5.00", 0)
    # Another team's ticket Z-1 (9999.00) is not emea's; its lead sees only its own.
    apac = client.get("/v1/reports/audit", query_string=NOVEMBER, headers=month["apac"]).json
    assert [(r["touchpoint"], r["cost"], r["tickets"]) for r in apac["rows"]] == [
        ("courier", "10999.00", 1)
    ]


def test_the_audit_as_csv(month, client):
    response = client.get(
        "/v1/reports/audit", query_string={**NOVEMBER, "format": "csv"}, headers=month["emea"]
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["touchpoint"], r["cost"], r["tickets"]) for r in rows] == [
        ("courier", "1100.00", "2"),
        ("billing_run", "200.00", "2"),
        ("", "5.00", "1"),
    ]


def test_diagnose_counts_tickets_not_decisions(month, client):
    rows = client.get("/v1/reports/diagnose", query_string=NOVEMBER, headers=month["emea"]).json
    (row,) = rows["rows"]  # every seeded incident is delivery, company fault, EUR
    assert (row["month"], row["category"], row["incidents"], row["decisions"]) == (
        "2026-11",
        "delivery",
        5,  # Z-1 (twice), A's second, B-1, B-2, D's
        6,
    )
    assert (row["remedy_cost"], row["outcomes"], row["retention"]) == ("305.00", 3, "0.6667")
    assert (row["lost_customer_value"], row["cost_to_company"]) == ("1000.00", "1305.00")


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
        assert {key: _columns(row) for key, row in kept.items()} == {
            key: tally.as_row() for key, tally in raw.items()
        }
    with db.database(app).unit_of_work() as session:  # rebuilt from the raw rows: the same
        assert rebuild(session) == len(raw)
        rebuilt = {
            (r.team, r.ticket, r.currency): _columns(r)
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


def _columns(row: ReportTicket) -> dict:
    values = {c.name: getattr(row, c.name) for c in ReportTicket.__table__.columns}
    values["first_at"] = values["first_at"].astimezone(UTC)
    return values


def test_a_lead_reads_its_own_teams_reports_only(month, client, auth):
    for report in ("spend", "diagnose", "promises", "audit"):
        path = f"/v1/reports/{report}"
        own = client.get(path, query_string=NOVEMBER, headers=month["emea"])
        assert own.status_code == 200, (report, own.json)
        assert "9999" not in own.get_data(as_text=True)  # apac's numbers never appear
        named = client.get(path, query_string={**NOVEMBER, "team": "emea"}, headers=month["emea"])
        assert named.status_code == 200 and named.json == own.json
        other = client.get(path, query_string={**NOVEMBER, "team": "apac"}, headers=month["emea"])
        assert other.status_code == 403, report
        assert "team" in other.json["errors"]
        assert client.get(path, query_string=NOVEMBER, headers=auth("agent")).status_code == 403
        csv_answer = client.get(
            path, query_string={**NOVEMBER, "format": "csv"}, headers=month["emea"]
        )
        assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
        assert "9999" not in csv_answer.get_data(as_text=True)
    spend = client.get(
        "/v1/reports/spend", query_string={**NOVEMBER, "group_by": "team"}, headers=month["emea"]
    ).json
    assert {r["group"] for r in spend["rows"]} == {"emea"}
    everyone = client.get(
        "/v1/reports/spend", query_string={**NOVEMBER, "group_by": "team"}, headers=auth("finance")
    ).json
    assert {r["group"] for r in everyone["rows"]} == {"emea", "apac"}
    one = client.get(
        "/v1/reports/spend",
        query_string={**NOVEMBER, "group_by": "team", "team": "apac"},
        headers=auth("finance"),
    ).json
    assert {r["group"] for r in one["rows"]} == {"apac"}


def test_touchpoints_are_a_closed_vocabulary(app, client, auth):
    set_pool(app, "emea", "5000.00")
    unknown = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(touchpoint="the_moon"), "team": "emea"},
        headers=auth(),
    )
    assert unknown.status_code == 422
    (message,) = unknown.json["errors"]["incident.touchpoint"]
    assert "the_moon" in message and "courier" in message and "sign_in_page" in message
    made = []
    for word in ("Login-Page", "sign_in_page"):  # a synonym, then the name: one touchpoint
        answer = client.post(
            "/v1/recommendations",
            json={
                "incident": incident_payload(touchpoint=word, external_id="T-7"),
                "team": "emea",
            },
            headers=auth(),
        )
        assert answer.status_code == 201, answer.json
        made.append(answer.json["created_at"])
    window = {
        "from": (datetime.fromisoformat(made[0]) - timedelta(days=1)).date().isoformat(),
        "to": (datetime.fromisoformat(made[0]) + timedelta(days=2)).date().isoformat(),
    }
    rows = client.get("/v1/reports/audit", query_string=window, headers=auth("finance")).json
    assert [(r["touchpoint"], r["tickets"], r["decisions"]) for r in rows["rows"]] == [
        ("sign_in_page", 1, 2)
    ]


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
            (r.team, r.ticket, r.currency): _columns(r)
            for r in session.scalars(sa.select(ReportTicket))
        }
    assert kept == raw
    remedies = sorted(row["committed_minor"] + row["reserved_minor"] for row in raw.values())
    assert remedies[:2] == [0, 0]  # cancelled and expired: nothing given
    assert remedies[2] == int(more.replace(".", ""))  # the overage, committed in full

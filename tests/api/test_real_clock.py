"""The real clock (issue 21, part 5): the promises count from when the customer complained
(`reported_at`), not from when the agent asked. Talking points carry respond_by and fix_by,
a late answer is said to be late, outcomes and the promises report count from the complaint,
a make-whole fix within finance's limit needs no approval, and the approval queue shows the
fix's deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import Decision
from tests.conftest import incident_payload, row_count
from tests.factories import default_document, set_caps, set_pool


def recommend(client, auth, reported_at: datetime | None = None, **incident):
    """POST a severity-2 company-fault incident (answer within 30 minutes, fix within the
    hour) for team emea; return the answer."""
    fields = {"severity": 2, **incident}
    if reported_at is not None:
        fields["reported_at"] = reported_at.isoformat()
    answer = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(**fields), "team": "emea"},
        headers=auth(),
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def ago(minutes: int) -> datetime:
    """A moment `minutes` ago, to the second (as help desks send them)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).replace(microsecond=0)


def test_reported_50_minutes_ago_the_30_minute_answer_is_overdue(app, client, auth):
    reported = ago(50)
    body = recommend(client, auth, reported)
    assert body["incident"]["reported_at"] == reported.isoformat()
    assert body["notes"][0] == (
        "answer overdue: the customer complained 50 minutes ago and we promise an answer "
        "within 30 minutes; answer now and apologise for the wait"
    )
    assert body["note_codes"][0] == {
        "code": "answer_overdue",
        "params": {"waited": {"seconds": 3000}, "respond_within": {"seconds": 1800}},
    }
    assert not any(n["code"] == "fix_overdue" for n in body["note_codes"])  # 10 minutes left
    for plan in body["plans"]:
        points = plan["talking_points"]
        assert points["respond_within"] == "PT30M" and points["fix_within"] == "PT1H"
        assert points["respond_by"] == (reported + timedelta(minutes=30)).isoformat()
        assert points["fix_by"] == (reported + timedelta(hours=1)).isoformat()
        assert points["points"][1] == (
            "They have waited 50 minutes for this answer, longer than we promise: thank them "
            "for their patience and apologise for the wait."
        )


def test_the_late_answer_is_said_in_the_customers_language_and_the_agents(app, client, auth):
    body = client.post(
        "/v1/recommendations",
        json={
            "incident": incident_payload(
                severity=2, locale="fr-FR", reported_at=ago(50).isoformat()
            ),
            "team": "emea",
        },
        headers={**auth(), "Accept-Language": "de"},
    ).json
    assert body["notes"][0].startswith(
        "Antwort überfällig: Der Kunde hat sich vor 50 Minuten beschwert"
    )
    point = body["plans"][0]["talking_points"]["points"][1]
    assert point.startswith("Le client attend cette réponse depuis 50 minutes")


def test_past_the_fix_deadline_the_fix_is_said_to_be_late_too(app, client, auth):
    reported = ago(90)
    body = recommend(client, auth, reported)
    codes = [n["code"] for n in body["note_codes"]]
    assert codes[:2] == ["answer_overdue", "fix_overdue"]
    assert body["notes"][1] == (
        "fix overdue: the customer complained 90 minutes ago and we promise the fix within "
        "1 hour; make them whole in this answer"
    )
    top = body["plans"][0]
    assert any(
        p.startswith("Fix it now, in this conversation (the 1 hour we promise has passed): ")
        for p in top["talking_points"]["points"]
    )


def test_without_reported_at_the_clock_starts_now_and_nothing_is_late(app, client, auth):
    body = recommend(client, auth)
    made = datetime.fromisoformat(body["created_at"])
    reported = datetime.fromisoformat(body["incident"]["reported_at"])
    assert reported == made
    points = body["plans"][0]["talking_points"]
    assert datetime.fromisoformat(points["respond_by"]) == made + timedelta(minutes=30)
    assert datetime.fromisoformat(points["fix_by"]) == made + timedelta(hours=1)
    assert not any(n["code"].endswith("_overdue") for n in body["note_codes"])
    assert not any("waited" in p for p in points["points"])
    # The customer's fault: no fix is promised, so there is no fix_by.
    own = recommend(client, auth, fault_type="customer")["plans"][0]["talking_points"]
    assert own["fix_within"] is None and own["fix_by"] is None and own["respond_by"]


@pytest.mark.parametrize(
    ("reported_at", "message"),
    [
        (lambda: ago(-10).isoformat(), "in the future (more than 5 minutes ahead of our clock)"),
        (lambda: ago(91 * 24 * 60).isoformat(), "more than 90 days ago"),
        (lambda: "2026-01-01T10:00:00", "Not a valid aware datetime."),
        (lambda: "yesterday", "Not a valid datetime."),
    ],
)
def test_a_reported_at_in_the_future_or_absurdly_old_is_refused_naming_it(
    app, client, auth, reported_at, message
):
    answer = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(reported_at=reported_at()), "team": "emea"},
        headers=auth(),
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"] == {"incident.reported_at": [message]}
    assert row_count(app, Decision) == 0


def test_a_clock_a_little_ahead_of_ours_reads_as_now(app, client, auth):
    body = recommend(client, auth, ago(-2))
    assert body["incident"]["reported_at"] == body["created_at"]
    assert not any(n["code"].endswith("_overdue") for n in body["note_codes"])


def accept_first_plan(client, auth, body) -> str:
    """Accept the first plan that needs no approval; return the decision id."""
    plan = next(p for p in body["plans"] if not p["requires_approval"])
    accepted = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth(),
    )
    assert accepted.status_code == 200, accepted.json
    return body["decision_id"]


def outcome(client, auth, decision_id: str, **moments: datetime):
    """POST an outcome with the given moments."""
    report = {"decision_id": decision_id, "retained": True}
    report["observed_at"] = datetime.now(UTC).isoformat()
    report.update({name: moment.isoformat() for name, moment in moments.items()})
    return client.post("/v1/outcomes", json=report, headers=auth())


def test_outcomes_count_from_the_complaint_not_from_the_decision(app, client, auth):
    set_pool(app, "emea", "5000.00")
    reported = ago(40)
    decision_id = accept_first_plan(client, auth, recommend(client, auth, reported))
    # The agent answered by mail 10 minutes after the complaint, before asking remedy: real.
    stored = outcome(
        client,
        auth,
        decision_id,
        responded_at=reported + timedelta(minutes=10),
        fixed_at=reported + timedelta(minutes=30),
    )
    assert stored.status_code == 201, stored.json
    assert stored.json["responded_at"] == (reported + timedelta(minutes=10)).isoformat()
    # Before the complaint is impossible.
    early = outcome(client, auth, decision_id, responded_at=reported - timedelta(minutes=1))
    assert early.status_code == 422
    assert early.json["errors"] == {
        "responded_at": ["before the incident was reported or in the future"]
    }


def test_the_promises_report_measures_from_the_complaint(app, client, auth):
    set_pool(app, "emea", "5000.00")
    reported = ago(45)
    body = recommend(client, auth, reported, customer_id="late")
    made = datetime.fromisoformat(body["created_at"])
    decision_id = accept_first_plan(client, auth, body)
    # Answered 15 minutes after the decision: 60 minutes after the complaint, not 15.
    stored = outcome(
        client, auth, decision_id, responded_at=made + timedelta(minutes=15), fixed_at=made
    )
    assert stored.status_code == 201, stored.json
    window = {"from": (made - timedelta(days=1)).date().isoformat()}
    window["to"] = (made + timedelta(days=2)).date().isoformat()
    rows = client.get("/v1/reports/promises", query_string=window, headers=auth("finance")).json
    (row,) = rows["rows"]
    respond, fix = row["respond"], row["fix"]
    took = (made + timedelta(minutes=15) - reported).total_seconds() / 60
    assert respond["count"] == 1 and respond["kept_share"] == "0.0000"  # 60 > 30 minutes
    assert respond["p50_minutes"] == f"{took:.1f}"
    assert fix["kept_share"] == "1.0000"  # 45 minutes after the complaint, within the hour


def test_a_2000_eur_make_whole_fix_is_reserved_without_approval(app, client, auth):
    set_pool(app, "emea", "20000.00")
    body = recommend(
        client,
        auth,
        severity=3,
        category="billing",
        loss_amount="2000.00",
        customer_value="20000.00",
    )
    plan = body["plans"][0]  # the full refund and small extras, 2,000.00 + 35.33
    assert plan["plan_id"].startswith("apology+refund_full") and plan["fix_cost"] == "2000.00"
    beyond = Decimal(plan["total_cost"]) - Decimal("2000.00")
    assert Decimal(0) < beyond <= Decimal("1000.00")  # within the agent's own tier
    assert not plan["requires_approval"] and plan["approver"] is None
    assert (
        "the fix (€2,000.00) needs no approval up to €5,000.00: approval counts only the "
        f"€{beyond} beyond it"
    ) in plan["reasons"]
    accepted = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth(),
    )
    assert accepted.status_code == 200 and accepted.json["status"] == "reserved", accepted.json


@pytest.fixture
def lead(app):
    """Headers of a lead of emea."""
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("lead", "emea", "emea lead")
    return {"Authorization": f"Bearer {token}"}


def waiting_refund(client, auth, reported: datetime) -> str:
    """A 2,000 EUR refund, reported at `reported`, accepted and waiting for a lead."""
    body = recommend(
        client,
        auth,
        reported,
        severity=3,
        category="billing",
        loss_amount="2000.00",
        customer_value="20000.00",
        customer_id=f"c-{reported.timestamp()}",
    )
    plan = body["plans"][0]
    assert plan["plan_id"].startswith("apology+refund_full") and plan["approver"] == "lead"
    accepted = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth(),
    )
    assert accepted.json["status"] == "pending_approval", accepted.json
    return body["decision_id"]


def test_the_approval_wait_shows_against_the_fix_deadline(app, client, auth, lead):
    set_pool(app, "emea", "20000.00")
    approvals = default_document("caps")["approvals"]
    set_caps(app, approvals={**approvals, "fix_without_approval": {"EUR": "0"}})
    in_time, late = ago(50), ago(70)
    first, second = waiting_refund(client, auth, in_time), waiting_refund(client, auth, late)
    entries = {
        e["decision_id"]: e for e in client.get("/v1/approvals", headers=lead).json["approvals"]
    }
    assert entries[first]["incident"]["reported_at"] == in_time.isoformat()
    assert entries[first]["fix_by"] == (in_time + timedelta(hours=1)).isoformat()
    assert 0 < entries[first]["fix_seconds_left"] <= 600  # about 10 minutes left
    assert entries[second]["fix_by"] == (late + timedelta(hours=1)).isoformat()
    assert -900 < entries[second]["fix_seconds_left"] <= -600  # 10 minutes overdue
    approval = client.get(f"/v1/decisions/{second}", headers=auth()).json["approval"]
    assert approval["state"] == "pending"
    assert approval["fix_by"] == entries[second]["fix_by"]
    assert approval["fix_seconds_left"] <= -600
    decided = client.post(f"/v1/decisions/{second}/approve", json={}, headers=lead)
    assert decided.status_code == 200, decided.json
    approval = client.get(f"/v1/decisions/{second}", headers=auth()).json["approval"]
    assert approval["state"] == "approved" and approval["fix_seconds_left"] is None
    assert approval["fix_by"] == (late + timedelta(hours=1)).isoformat()


def test_a_decision_stored_before_reported_at_reads_it_as_its_time(app, client, auth):
    body = recommend(client, auth)
    with db.database(app).unit_of_work() as session:
        row = session.get(Decision, body["decision_id"])
        incident = dict(row.incident)
        del incident["reported_at"]
        session.execute(sa.update(Decision).where(Decision.id == row.id).values(incident=incident))
    again = client.get(f"/v1/decisions/{body['decision_id']}", headers=auth()).json
    assert again["incident"]["reported_at"] == again["created_at"]

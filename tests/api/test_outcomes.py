"""POST /v1/outcomes: one outcome per accepted decision, updates audited, bad input refused."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import AuditEntry, Outcome
from tests.conftest import incident_payload, row_count
from tests.factories import set_pool


def accepted_decision(client, auth, app):
    """Recommend for team emea and accept the first plan; return the decision body."""
    set_pool(app, "emea", "5000.00")
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload(), "team": "emea"}, headers=auth()
    ).json
    plan = next(p for p in body["plans"] if not p["requires_approval"])
    accepted = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth(),
    )
    assert accepted.status_code == 200, accepted.json
    return body, plan


def now_iso(**delta):
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def test_outcome_is_recorded_then_updated_and_audited(app, client, auth):
    body, plan = accepted_decision(client, auth, app)
    report = {
        "decision_id": body["decision_id"],
        "retained": True,
        "observed_at": now_iso(),
        "referrals": 2,
        "revenue_after": "310.50",
        "csat": 5,
    }
    first = client.post("/v1/outcomes", json=report, headers=auth())
    assert first.status_code == 201, first.json
    assert first.json["plan_id"] == plan["plan_id"]
    assert first.json["revenue_after"] == "310.50" and first.json["currency"] == "EUR"
    second = client.post(
        "/v1/outcomes", json={**report, "retained": False, "csat": 2}, headers=auth()
    )
    assert second.status_code == 200 and second.json["retained"] is False
    assert row_count(app, Outcome) == 1
    with db.database(app).unit_of_work() as session:
        entries = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "outcome").order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].before["retained"] is True and entries[1].after["retained"] is False


def test_outcome_for_a_decision_never_accepted_is_409(app, client, auth):
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=auth()
    ).json
    response = client.post(
        "/v1/outcomes",
        json={"decision_id": body["decision_id"], "retained": True, "observed_at": now_iso()},
        headers=auth(),
    )
    assert response.status_code == 409
    assert "decision_id" in response.json["errors"]
    assert row_count(app, Outcome) == 0


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"decision_id": "nope"}, 404, "decision_id"),
        ({"retained": "yes"}, 422, "retained"),
        ({"csat": 9}, 422, "csat"),
        ({"csat": 0}, 422, "csat"),
        ({"referrals": -1}, 422, "referrals"),
        ({"referrals": 1.5}, 422, "referrals"),
        ({"observed_at": "yesterday"}, 422, "observed_at"),
        ({"observed_at": now_iso(days=30)}, 422, "observed_at"),
        ({"observed_at": "2001-01-01T00:00:00Z"}, 422, "observed_at"),
        ({"revenue_after": "-5"}, 422, "revenue_after"),
        ({"revenue_after": "1.234"}, 422, "revenue_after"),
        ({"revenue_after": 12.5}, 422, "revenue_after"),
        ({"mood": "happy"}, 422, "mood"),
    ],
)
def test_bad_outcomes_are_refused_and_write_nothing(app, client, auth, change, status, field):
    body, _ = accepted_decision(client, auth, app)
    report = {"decision_id": body["decision_id"], "retained": True, "observed_at": now_iso()}
    response = client.post("/v1/outcomes", json={**report, **change}, headers=auth())
    assert response.status_code == status, response.json
    assert field in response.json["errors"], response.json
    assert row_count(app, Outcome) == 0


def test_finance_cannot_post_outcomes(client, auth):
    response = client.post(
        "/v1/outcomes",
        json={"decision_id": "x", "retained": True, "observed_at": now_iso()},
        headers=auth("finance"),
    )
    assert response.status_code == 403

"""GET /v1/incidents/at-risk: overdue and near fixes, apology-only answers and approvals waiting
against the promise, each with its reason code and words; a team's key sees its own only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.at_risk import AtRiskSettings
from remedy.store.tables import ApprovalRequest, utcnow
from tests.conftest import incident_payload
from tests.factories import key_headers, set_pool


@pytest.fixture
def people(app):
    """Headers by name: agents and leads of emea and apac, unscoped finance."""
    set_pool(app, "emea", "20000.00")
    set_pool(app, "apac", "20000.00")
    return key_headers(app)


def decide(client, headers, team, minutes_ago, accept="agent", **incident):
    """A recommendation for an incident reported `minutes_ago`; accept its first plan of the
    `accept` tier (agent: none needed; lead: a lead's approval) unless None."""
    reported = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
    body = {"incident": incident_payload(reported_at=reported, **incident), "team": team}
    answer = client.post("/v1/recommendations", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    decision = answer.json
    if accept is not None:
        approver = None if accept == "agent" else accept
        plan = next(p for p in decision["plans"] if p["approver"] == approver)
        accepted = client.post(
            f"/v1/decisions/{decision['decision_id']}/accept",
            json={"plan_id": plan["plan_id"]},
            headers=headers,
        )
        assert accepted.status_code == 200, accepted.json
    return decision["decision_id"]


def at_risk(client, headers, **query):
    answer = client.get("/v1/incidents/at-risk", headers=headers, query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


def codes(row):
    return [reason["code"] for reason in row["reason_codes"]]


def test_a_lead_sees_its_teams_incidents_at_risk_and_why_and_never_another_teams(
    app, client, people
):
    agent, apac_agent = people("agent"), people("apac agent")
    overdue = decide(client, agent, "emea", 120, customer_id="c-late", external_id="T-1")
    soon = decide(client, agent, "emea", 50, customer_id="c-soon", external_id="T-2")
    decide(client, agent, "emea", 10, customer_id="c-fine", external_id="T-3")
    fixed = decide(client, agent, "emea", 120, customer_id="c-fixed", external_id="T-4")
    now = utcnow().isoformat()
    recorded = client.post(
        "/v1/outcomes",
        json={"decision_id": fixed, "retained": True, "observed_at": now, "fixed_at": now},
        headers=agent,
    )
    assert recorded.status_code == 201, recorded.json
    waiting = decide(
        client,
        agent,
        "emea",
        40,
        accept="lead",
        customer_id="c-wait",
        severity=5,
        loss_amount="950.00",
        customer_value="5000.00",
        external_id="T-5",
    )
    with db.database(app).unit_of_work() as session:  # asked for approval 25 minutes ago
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == waiting)
            .values(requested_at=utcnow() - timedelta(minutes=25))
        )
    theirs = decide(client, apac_agent, "apac", 120, customer_id="c-apac", external_id="A-1")
    set_pool(app, "apac", "29.00")  # nothing but an apology fits apac's pool now
    apology = decide(
        client, apac_agent, "apac", 5, accept=None, customer_id="c-apac-2", loss_amount="200.00"
    )

    mine = at_risk(client, people("lead"))
    rows = {row["decision_id"]: row for row in mine["at_risk"]}
    assert set(rows) == {overdue, soon, waiting}, rows
    assert [row["decision_id"] for row in mine["at_risk"]][0] == overdue  # earliest fix first
    assert codes(rows[overdue]) == ["risk_fix_overdue"]
    assert rows[overdue]["reasons"][0].startswith("fix overdue by 1 hour")
    assert rows[overdue]["fix_seconds_left"] < 0 and rows[overdue]["team"] == "emea"
    assert rows[overdue]["customer_id"] == "c-late" and rows[overdue]["external_id"] == "T-1"
    assert Decimal(rows[overdue]["amount"]) > 0 and rows[overdue]["plan"]
    assert codes(rows[soon]) == ["risk_fix_due_soon"]
    assert 0 < rows[soon]["fix_seconds_left"] <= 15 * 60
    assert codes(rows[waiting]) == ["risk_approval_waiting"]
    share = rows[waiting]["reason_codes"][0]["params"]["share"]
    assert Decimal(share["share"]) >= Decimal("0.5"), share
    # Past escalate_after (15 minutes): finance decides it too, and the lead still sees it.
    assert rows[waiting]["approval"]["tier"] == "finance"
    assert rows[waiting]["approval"]["escalated"] is True
    assert rows[waiting]["approval"]["waiting_seconds"] >= 25 * 60
    assert rows[waiting]["churn_threat"] is False and rows[waiting]["customer_value"] == "5000.00"
    assert "apac" not in str(mine) and "c-apac" not in str(mine)

    apac = at_risk(client, people("apac lead"))
    rows = {row["decision_id"]: row for row in apac["at_risk"]}
    assert set(rows) == {theirs, apology}, rows
    assert codes(rows[apology]) == ["risk_apology_only"]
    assert rows[apology]["reason_codes"][0]["params"]["limit"] == "pool"
    assert "PUT /v1/budgets" in rows[apology]["reasons"][0]
    assert "emea" not in str(apac) and "c-late" not in str(apac)

    everyone = at_risk(client, people("finance"))
    assert {row["decision_id"] for row in everyone["at_risk"]} == {
        overdue,
        soon,
        waiting,
        theirs,
        apology,
    }
    first = at_risk(client, people("finance"), limit=1)
    assert len(first["at_risk"]) == 1 and first["truncated"] is True
    assert everyone["truncated"] is False

    german = client.get(
        "/v1/incidents/at-risk", headers={**people("lead"), "Accept-Language": "de"}
    ).json
    said = {row["decision_id"]: row["reasons"] for row in german["at_risk"]}
    assert said[overdue][0].startswith("Behebung seit 1 Stunde überfällig")  # words at the edge

    assert client.get("/v1/incidents/at-risk", headers=people("agent")).status_code == 403
    bad = client.get("/v1/incidents/at-risk", headers=people("lead"), query_string={"limit": 0})
    assert bad.status_code == 422 and "limit" in bad.json["errors"]


def test_the_thresholds_are_checked_when_the_app_starts():
    with pytest.raises(ValueError, match="near_share"):
        AtRiskSettings(near_share=Decimal("1.5"))
    with pytest.raises(ValueError, match="days"):
        AtRiskSettings(days=0)

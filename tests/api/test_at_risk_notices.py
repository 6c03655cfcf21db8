"""`incident.at_risk`: the worker's pass tells a subscribed team of what is newly at risk,
once per decision and reason, and never a team that did not subscribe."""

from __future__ import annotations

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services import app_services
from remedy.services.at_risk import AtRiskSettings
from remedy.services.at_risk_notices import notify_at_risk
from remedy.services.notifications import INCIDENT_AT_RISK
from remedy.store.tables import WebhookDelivery
from tests.api.test_at_risk import decide, people  # noqa: F401 - `people` is a fixture


def subscribe(client, headers, events):
    body = {"url": "https://hooks.example.com/remedy", "events": events}
    answer = client.post("/v1/webhooks", json=body, headers=headers)
    assert answer.status_code == 201, answer.json


def run_pass(app) -> int:
    with db.database(app).unit_of_work() as session:
        tiers = app_services.engines(app).engine(session).caps.approvals
        return notify_at_risk(session, tiers, AtRiskSettings())


def told(app) -> list[dict]:
    with db.database(app).unit_of_work() as session:
        rows = session.scalars(
            sa.select(WebhookDelivery).where(WebhookDelivery.event == INCIDENT_AT_RISK)
        ).all()
        return [row.payload for row in rows]


def test_an_overdue_fix_is_told_once_to_the_subscribed_team_only(app, client, people):  # noqa: F811
    subscribe(client, people("lead"), ["incident.at_risk"])
    subscribe(client, people("apac lead"), ["approval.requested"])  # not this event
    late = decide(client, people("agent"), "emea", 120, customer_id="c-late", external_id="T-1")
    decide(client, people("agent"), "emea", 5, customer_id="c-fine", external_id="T-2")
    decide(client, people("apac agent"), "apac", 120, customer_id="c-apac", external_id="T-3")

    assert run_pass(app) == 1
    (event,) = told(app)
    assert (event["type"], event["team"]) == ("incident.at_risk", "emea")
    data = event["data"]
    assert (data["decision_id"], data["external_id"]) == (late, "T-1")
    assert data["reason_codes"][0] == "risk_fix_overdue"
    assert data["reasons"][0]["code"] == "risk_fix_overdue" and data["fix_by"]
    assert run_pass(app) == 0  # still overdue: already told
    assert len(told(app)) == 1

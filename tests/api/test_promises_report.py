"""Promises measured: outcomes say when the agent answered and when the fix was done, and
GET /v1/reports/promises compares them with each decision's respond_within and fix_within."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import incident_payload
from tests.factories import set_pool


def decide_and_accept(client, auth, customer_id: str) -> tuple[str, datetime]:
    """A severity-2 company-fault decision (respond within 30 minutes, fix within the hour),
    its first plan accepted; return its id and when it was made."""
    body = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(customer_id=customer_id, severity=2), "team": "emea"},
        headers=auth(),
    ).json
    plan = next(p for p in body["plans"] if not p["requires_approval"])
    assert plan["talking_points"]["respond_within"] == "PT30M"
    assert plan["talking_points"]["fix_within"] == "PT1H"
    accepted = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth(),
    )
    assert accepted.status_code == 200, accepted.json
    return body["decision_id"], datetime.fromisoformat(body["created_at"])


def test_time_to_respond_and_to_fix_against_the_promises(app, client, auth):
    set_pool(app, "emea", "5000.00")
    timings = [(10, 30), (20, 90), (40, None)]  # minutes after the decision: answered, fixed
    for n, (answered, fixed) in enumerate(timings):
        decision_id, made = decide_and_accept(client, auth, f"c{n}")
        report = {
            "decision_id": decision_id,
            "retained": True,
            "observed_at": (made + timedelta(minutes=100)).isoformat(),
            "responded_at": (made + timedelta(minutes=answered)).isoformat(),
        }
        if fixed is not None:
            report["fixed_at"] = (made + timedelta(minutes=fixed)).isoformat()
        stored = client.post("/v1/outcomes", json=report, headers=auth())
        assert stored.status_code == 201, stored.json
        assert stored.json["responded_at"] is not None
    window = {"from": (made - timedelta(days=1)).date().isoformat()}
    window["to"] = (made + timedelta(days=2)).date().isoformat()
    rows = client.get("/v1/reports/promises", query_string=window, headers=auth("finance")).json
    (row,) = rows["rows"]
    assert (row["category"], row["team"]) == ("delivery", "emea")
    # Answered in 10, 20, 40 minutes against 30: two of three kept; nearest-rank percentiles.
    assert row["respond"] == {
        "count": 3,
        "kept_share": "0.6667",
        "p50_minutes": "20.0",
        "p90_minutes": "40.0",
    }
    # Fixed in 30 and 90 minutes against an hour: one of two kept.
    assert row["fix"] == {
        "count": 2,
        "kept_share": "0.5000",
        "p50_minutes": "30.0",
        "p90_minutes": "90.0",
    }
    csv = client.get(
        "/v1/reports/promises", query_string={**window, "format": "csv"}, headers=auth("finance")
    )
    assert csv.data.decode().splitlines()[1].startswith("delivery,emea,3,0.6667,20.0,40.0,2,")


def test_a_response_time_before_the_complaint_is_refused(app, client, auth):
    set_pool(app, "emea", "5000.00")
    decision_id, made = decide_and_accept(client, auth, "early")
    report = {
        "decision_id": decision_id,
        "retained": True,
        "observed_at": (made + timedelta(minutes=5)).isoformat(),
        "responded_at": (made - timedelta(minutes=5)).isoformat(),
    }
    response = client.post("/v1/outcomes", json=report, headers=auth())
    assert response.status_code == 422
    assert "responded_at" in response.json["errors"]

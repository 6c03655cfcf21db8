"""The honesty audit (GET /v1/reports/audit) and diagnose by ticket over a seeded month
(tests/api/report_month.py), a lead's own team's reports only, and the closed vocabulary of
touchpoints; the ticket rollup the reports read is checked in test_report_rollup.py."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from tests.api.report_month import NOVEMBER
from tests.conftest import incident_payload
from tests.factories import set_pool


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

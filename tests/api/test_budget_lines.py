"""Finance's two lines through the API: set them, read them, see recommendations and reports
name them; a single-limit pool reads and behaves as before."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from remedy.store.tables import utcnow
from tests.conftest import incident_payload
from tests.factories import decision_row, set_pool, store, verify

BOTH = "credit+gift_1x"  # a 27.00 credit and a 10.00 gift


def put(client, auth, body, team="emea"):
    return client.put(f"/v1/budgets/{team}", json=body, headers=auth("finance"))


def test_finance_sets_two_lines_and_reads_both(app, client, auth):
    body = {
        "period": "month",
        "currency": "EUR",
        "fix_limit": "20000.00",
        "overdelivery_limit": "5000.00",
    }
    answer = put(client, auth, body)
    assert answer.status_code == 200, answer.json
    pool = answer.json
    assert (pool["limit"], pool["split"]) == ("25000.00", True)
    assert pool["lines"]["fix"] == {
        "limit": "20000.00",
        "reserved": "0.00",
        "committed": "0.00",
        "remaining": "20000.00",
        "shared": False,
    }
    assert pool["lines"]["overdelivery"]["limit"] == "5000.00"
    (read,) = client.get("/v1/budgets/emea", headers=auth("agent")).json["pools"]
    assert read["lines"] == pool["lines"]
    (version,) = client.get("/v1/budgets/emea/history", headers=auth("finance")).json["versions"]
    assert (version["fix_limit"], version["overdelivery_limit"]) == ("20000.00", "5000.00")
    # Back to one line: the lines are the pool's again.
    one = put(client, auth, {"period": "month", "currency": "EUR", "limit": "900.00"}).json
    assert one["split"] is False and one["lines"]["overdelivery"]["shared"] is True
    history = client.get("/v1/budgets/emea/history", headers=auth("finance")).json["versions"]
    assert (history[0]["fix_limit"], history[0]["overdelivery_limit"]) == (None, None)


def test_a_limit_beside_the_lines_must_be_their_sum(app, client, auth):
    body = {"period": "month", "currency": "EUR", "fix_limit": "10.00"}
    both = {**body, "overdelivery_limit": "5.00"}
    assert put(client, auth, {**both, "limit": "15.00"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fix_limit": "10.00"}, "overdelivery_limit"),
        ({"overdelivery_limit": "10.00"}, "fix_limit"),
        ({}, "limit"),
        ({"fix_limit": "10.00", "overdelivery_limit": "5.00", "limit": "16.00"}, "limit"),
        ({"fix_limit": "-1.00", "overdelivery_limit": "5.00"}, "fix_limit"),
        ({"fix_limit": "1.001", "overdelivery_limit": "5.00"}, "fix_limit"),
    ],
)
def test_bad_lines_are_422_naming_the_field_and_store_nothing(app, client, auth, body, field):
    answer = put(client, auth, {"period": "month", "currency": "EUR", **body})
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"], answer.json
    assert client.get("/v1/budgets/emea", headers=auth("finance")).json["pools"] == []


def test_a_team_scoped_key_reads_its_own_team_only(app, client, keys):
    from remedy.extensions import db
    from remedy.services.keys import KeyService

    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("agent", team="apac", label="apac")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/budgets/emea", headers=headers).status_code == 403
    assert client.get("/v1/budgets/apac", headers=headers).json == {"pools": []}
    assert client.get("/v1/budgets/not a slug", headers=headers).status_code == 422


def recommend(client, auth, role="agent", **incident):
    body = {"incident": incident_payload(**incident), "team": "emea", "limit": 10}
    headers = {**auth(role), "Accept-Language": "en"}
    answer = client.post("/v1/recommendations", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_plans_whose_overdelivery_no_longer_fits_its_line_are_left_out_naming_it(app, client, auth):
    set_pool(app, "emea", None, lines=("5000.00", "1.00"))
    body = recommend(client, auth)
    assert body["plans"]
    for plan in body["plans"]:
        assert Decimal(plan["total_cost"]) - Decimal(plan["fix_cost"]) <= Decimal("1.00")
    note = next(n for n in body["notes"] if "no longer fit" in n)
    assert "the overdelivery line of pool emea/" in note and "has €1.00 left" in note
    assert "overdelivery_line_left" in str(body["note_codes"])


def test_plans_whose_fix_no_longer_fits_its_line_are_left_out_naming_it(app, client, auth):
    set_pool(app, "emea", None, lines=("10.00", "5000.00"))
    body = recommend(client, auth)
    note = next(n for n in body["notes"] if "no longer fit" in n)
    assert "the fix line of pool emea/" in note and "has €10.00 left" in note
    assert all(Decimal(p["fix_cost"]) <= Decimal("10.00") for p in body["plans"])


def test_pacing_reads_the_overdelivery_line_and_says_so_to_finance(app, client, auth):
    set_pool(app, "emea", None, lines=("5000.00", "1000.00"))
    body = recommend(client, auth, role="admin")  # finance's words
    assert any(
        n.startswith("budget pacing: the overdelivery line of pool emea/") for n in body["notes"]
    ), body["notes"]


def test_spend_report_splits_fix_and_overdelivery(app, client, auth):
    set_pool(app, "emea", None, lines=("100.00", "50.00"))
    first, second = store(
        app,
        decision_row({BOTH: ("37.00", False)}, customer_id="a"),
        decision_row({BOTH: ("37.00", False)}, customer_id="b"),
    )
    for decision_id in (first, second):
        accepted = client.post(
            f"/v1/decisions/{decision_id}/accept", json={"plan_id": BOTH}, headers=auth()
        )
        assert accepted.status_code == 200
    fulfilled = client.post(
        f"/v1/decisions/{first}/fulfil", json={"actual_cost": "30.00"}, headers=auth()
    )
    assert fulfilled.status_code == 200
    today = utcnow().date()
    window = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    rows = client.get(f"/v1/reports/spend?{window}&group_by=team", headers=auth("finance"))
    (row,) = rows.json["rows"]
    assert (row["committed"], row["reserved"]) == ("30.00", "37.00")
    assert row["fix"] == {"committed": "27.00", "reserved": "27.00"}
    assert row["overdelivery"] == {"committed": "3.00", "reserved": "10.00"}
    text = client.get(
        f"/v1/reports/spend?{window}&group_by=team&format=csv", headers=auth("finance")
    ).get_data(as_text=True)
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert (line["fix_committed"], line["overdelivery_reserved"]) == ("27.00", "10.00")
    by_kind = client.get(f"/v1/reports/spend?{window}&group_by=kind", headers=auth("finance"))
    credit = next(r for r in by_kind.json["rows"] if r["group"] == "credit")
    gift = next(r for r in by_kind.json["rows"] if r["group"] == "gift")
    assert credit["fix"] == {"committed": credit["committed"], "reserved": credit["reserved"]}
    assert gift["fix"] == {"committed": "0.00", "reserved": "0.00"}
    assert verify(app).ok

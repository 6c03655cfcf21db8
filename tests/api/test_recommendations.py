"""POST /v1/recommendations and GET /v1/decisions/<id>, end to end on a real database."""

from decimal import Decimal

from remedy.extensions import db
from remedy.store.tables import Decision
from tests.conftest import incident_payload, row_count


def recommend(client, auth, role="agent", **body):
    body.setdefault("incident", incident_payload())
    return client.post("/v1/recommendations", json=body, headers=auth(role))


def test_recommendation_returns_ranked_plans_inside_the_cap(client, auth):
    response = recommend(client, auth, incident=incident_payload(severity=4), limit=3)
    assert response.status_code == 201, response.json
    body = response.json
    best = [p for p in body["plans"] if not p["generous"]]
    assert len(best) == 3  # and the most generous plan, flagged, when it is not among them
    assert [p["generous"] for p in body["plans"]].count(True) == 1
    cap = Decimal(body["caps"]["amount"])
    values = [Decimal(p["expected_net_value"]) for p in best]
    assert values == sorted(values, reverse=True)
    for plan in body["plans"]:
        overdelivery = sum(Decimal(a["cost"]) for a in plan["overdelivery"])
        assert overdelivery - Decimal("23.33") <= cap  # the required manager's call is outside
        assert plan["total_cost"] == str(sum(Decimal(a["cost"]) for a in plan["actions"]))
        assert plan["fix_cost"] == str(sum(Decimal(a["cost"]) for a in plan["fix"]))
        kinds = [a["kind"] for a in plan["actions"]]
        assert "apology" in kinds  # company at fault
        assert {"manager"} <= {a["level"] for a in plan["actions"]} | {"manager"}
        assert "senior-contact-when-severe-and-ours" in plan["rules"]
        assert plan["talking_points"]["respond_within"] == "PT15M"  # severe: 15 minutes
        assert plan["talking_points"]["fix_within"] == "PT1H"  # ours: fixed within the hour
        assert plan["reasons"]
    assert body["versions"] == {
        "catalog": "1",
        "rules": "1",
        "caps": "1",
        "model": "heuristic-prior-1",
    }
    assert body["incident"]["loss_amount"] == "60.00"


def test_severe_company_fault_always_gets_manager_contact(client, auth):
    body = recommend(client, auth, incident=incident_payload(severity=5), limit=10).json
    for plan in body["plans"]:
        levels = {a["level"] for a in plan["actions"] if a["kind"] == "personal_contact"}
        assert levels & {"manager", "executive"}


def test_decision_is_stored_with_every_candidate_and_can_be_read_back(app, client, auth):
    body = recommend(client, auth, limit=2).json
    again = client.get(f"/v1/decisions/{body['decision_id']}", headers=auth("agent"))
    assert again.status_code == 200
    assert again.json == body
    # Finance reads the same decision with its numbers said too (P(stay), net value).
    finance = client.get(f"/v1/decisions/{body['decision_id']}", headers=auth("finance")).json
    assert [p["plan_id"] for p in finance["plans"]] == [p["plan_id"] for p in body["plans"]]
    for theirs, ours in zip(finance["plans"], body["plans"], strict=True):
        codes = [r["code"] for r in ours["reason_codes"]]
        assert codes == [r["code"] for r in theirs["reason_codes"] if r["code"] != "net_value"]
        assert len(theirs["reasons"]) == len(ours["reasons"]) + 1
        assert any("P(stay)" in r for r in theirs["reasons"])
    with db.database(app).unit_of_work() as session:
        decision = session.get(Decision, body["decision_id"])
        assert decision.shown == [p["plan_id"] for p in body["plans"]]
        assert len(decision.candidates) == body["candidates_considered"] > len(body["plans"])
        scores = [Decimal(c["expected_net_value"]) for c in decision.candidates]
        assert scores == sorted(scores, reverse=True)
        assert all(c["p_stay"] and c["total_cost"] for c in decision.candidates)
        assert set(decision.presentation) == set(decision.shown)
        assert decision.model_version == "heuristic-prior-1"


def test_french_locale_gives_french_labels_and_talking_points(client, auth):
    body = recommend(client, auth, incident=incident_payload(locale="fr-CA")).json
    plan = body["plans"][0]
    assert plan["talking_points"]["language"] == "fr"
    assert "Excuses sincères" in [a["label"] for a in plan["actions"]]
    assert plan["talking_points"]["points"][1].startswith("Dites simplement")


def test_unknown_language_falls_back_to_english(client, auth):
    body = recommend(client, auth, incident=incident_payload(locale="ko-KR")).json
    assert body["language"] == body["plans"][0]["talking_points"]["language"] == "en"
    assert body["notes"][0] == "No catalog for 'ko': talking points are in English."


def test_customer_fault_gets_bounded_refunds(client, auth):
    incident = incident_payload(fault_type="customer", loss_amount="100.00")
    body = recommend(client, auth, incident=incident, limit=10).json
    for plan in body["plans"]:
        for action in plan["actions"]:
            if action["kind"] == "refund":
                assert Decimal(action["value"]) <= Decimal("50.00")
    assert "refund_full" in body["excluded_items"]


def test_tight_cap_drops_better_plans_and_says_why(client, auth):
    incident = incident_payload(customer_value="100000.00", loss_amount="2000.00", severity=2)
    body = recommend(client, auth, incident=incident).json
    assert body["caps"]["binding"] == "absolute"
    assert body["caps"]["amount"] == "500.00"
    assert body["dropped"]
    assert all("over the incident cap" in d["reason"] for d in body["dropped"])


def test_zero_decimal_currency_amounts_are_whole(client, auth):
    incident = incident_payload(currency="JPY", loss_amount="8000", customer_value="150000")
    body = recommend(client, auth, incident=incident).json
    for plan in body["plans"]:
        assert "." not in plan["total_cost"]


def test_unknown_decision_is_404(client, auth):
    response = client.get("/v1/decisions/nope", headers=auth())
    assert response.status_code == 404
    assert response.json["code"] == 404


def test_recommendation_without_key_is_401_and_writes_nothing(app, client):
    response = client.post("/v1/recommendations", json={"incident": incident_payload()})
    assert response.status_code == 401
    assert response.json["message"].startswith("A valid API key")
    bad = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload()},
        headers={"Authorization": "Bearer rmd_nope_nope"},
    )
    assert bad.status_code == 401
    assert row_count(app, Decision) == 0


def test_finance_key_cannot_recommend(client, auth):
    response = recommend(client, auth, role="finance")
    assert response.status_code == 403
    assert "agent" in response.json["message"]

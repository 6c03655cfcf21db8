"""Fix first, then overdeliver: what the default catalog, rules and caps recommend, through the
API on both databases (the issue's incidents, as a support lead would try them)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import incident_payload
from tests.factories import default_document, set_caps, set_pool


def recommend(client, auth, limit=3, **incident):
    body = {"incident": incident_payload(**incident), "team": "emea", "limit": limit}
    response = client.post("/v1/recommendations", json=body, headers=auth())
    assert response.status_code == 201, response.json
    return response.json


def fix_of(plan):
    (fix,) = plan["fix"]
    return fix


@pytest.fixture
def funded(app):
    """Pools large enough that only the guardrails under test can stop a plan."""
    for currency in ("EUR", "USD", "GBP", "CAD"):
        set_pool(app, "emea", "900000.00", currency)
    return app


@pytest.mark.parametrize(
    ("loss", "currency", "category"),
    [
        ("0.50", "EUR", "delivery"),
        ("80.00", "EUR", "delivery"),
        ("2000.00", "CAD", "billing"),  # a cheque not credited
        ("1500.00", "GBP", "delivery"),  # a wrong delivery to a B2B client
        ("4000.00", "USD", "outage"),  # an outage for a 250k/yr account
        ("20000.00", "EUR", "billing"),
    ],
)
def test_a_company_fault_loss_of_any_size_is_made_whole_in_the_top_plan(
    funded, client, auth, loss, currency, category
):
    body = recommend(
        client,
        auth,
        severity=4,
        fault_type="company",
        loss_amount=loss,
        currency=currency,
        category=category,
        customer_value="250000.00",
    )
    top = body["plans"][0]
    fix = fix_of(top)
    assert Decimal(fix["value"]) >= Decimal(loss)  # the customer is made whole
    assert fix["part"] == "fix" and fix["kind"] in ("refund", "credit", "replacement")
    assert "make-whole-when-ours" in body["fired_rules"]
    overdelivery = sum(Decimal(a["cost"]) for a in top["overdelivery"])
    assert Decimal(top["total_cost"]) == Decimal(top["fix_cost"]) + overdelivery
    # What approval counts: the cost beyond a make-whole fix within finance's
    # fix_without_approval, else the whole cost (large fixes are offered all the same).
    counted = Decimal(top["total_cost"])
    make_whole = min(Decimal(top["fix_cost"]), Decimal(loss))
    limit = default_document("caps")["approvals"]["fix_without_approval"][currency]
    if make_whole <= Decimal(limit):
        counted -= make_whole
    if counted > Decimal(body["caps"]["approval_threshold"]):
        assert top["requires_approval"]
    assert any("the incident cap never limits it" in r for r in top["reasons"])


def test_billing_gets_money_back_not_credit(funded, client, auth):
    body = recommend(client, auth, category="billing", loss_amount="2000.00", currency="CAD")
    assert {fix_of(p)["kind"] for p in body["plans"]} == {"refund"}
    assert "not for billing incidents" in body["excluded_items"]["credit"]


def test_finance_fix_ceiling_is_the_one_cap_that_stops_a_fix_and_it_says_who_lifts_it(
    funded, client, auth
):
    set_caps(funded, fix_ceiling={"EUR": "1000.00"})
    body = recommend(client, auth, loss_amount="5000.00", category="billing")
    # Never nothing: an apology and a person, flagged with the ceiling and who lifts it.
    (offered,) = body["plans"]
    assert offered["blocked_by"]["limit"] == "fix_ceiling" and not offered["fix"]
    note = next(n for n in body["notes"] if n.startswith("no plan fits"))
    assert "fix ceiling of €1,000.00" in note and "finance" in note  # en-GB money
    small = recommend(client, auth, loss_amount="900.00", category="billing")
    assert small["plans"] and fix_of(small["plans"][0])["value"] == "900.00"


@pytest.mark.parametrize("fault", ["company", "partner", "customer", "unknown"])
def test_every_talking_point_set_has_the_promises(funded, client, auth, fault):
    for severity, respond in ((2, "PT30M"), (5, "PT15M")):
        body = recommend(client, auth, fault_type=fault, severity=severity, limit=5)
        assert body["plans"]
        for plan in body["plans"]:
            points = plan["talking_points"]
            assert points["respond_within"] == respond
            ours = fault in ("company", "partner")
            assert points["fix_within"] == ("PT1H" if ours else None)
            if ours:
                assert any("within 1 hour" in p for p in points["points"])  # PT1H, in words
        # a real loss never gets just an apology, whatever the fault
        assert all(plan["fix"] for plan in body["plans"])


def test_promises_are_set_by_finance_in_the_caps(funded, client, auth):
    set_caps(funded, promises={"respond_within": "PT20M", "fix_within": "PT2H"})
    points = recommend(client, auth)["plans"][0]["talking_points"]
    assert (points["respond_within"], points["fix_within"]) == ("PT20M", "PT2H")


def test_a_public_churn_threat_gets_a_person_and_is_worth_more(funded, client, auth):
    hater = recommend(client, auth, channel="social", churn_threat=True, reach=25000, limit=5)
    private = recommend(client, auth, channel="email", churn_threat=True, limit=5)
    assert "a-person-for-public-haters" in hater["fired_rules"]
    for plan in hater["plans"]:
        levels = {a["level"] for a in plan["overdelivery"] if a["kind"] == "personal_contact"}
        assert levels & {"manager", "executive", "leader"}
    assert "a-person-for-public-haters" not in private["fired_rules"]
    assert Decimal(hater["plans"][0]["expected_net_value"]) > Decimal(
        private["plans"][0]["expected_net_value"]
    )
    offered = {a["item_id"] for p in hater["plans"] for a in p["actions"]}
    assert offered & {"contact_executive", "direct_line"}  # a leader for a loud public hater
    assert {p["plan_id"] for p in hater["plans"]} != {p["plan_id"] for p in private["plans"]}


def test_a_review_is_public_without_saying_so(funded, client, auth):
    body = recommend(client, auth, channel="review", churn_threat=True)
    assert "a-person-for-public-haters" in body["fired_rules"]
    assert body["incident"]["public"] is False  # as sent; the channel makes it public


def test_the_third_incident_of_a_customer_is_escalated_and_says_so(funded, client, auth):
    for _ in range(2):
        body = recommend(client, auth, customer_id="again", severity=2)
        plan = body["plans"][0]["plan_id"]
        accepted = client.post(
            f"/v1/decisions/{body['decision_id']}/accept", json={"plan_id": plan}, headers=auth()
        )
        assert accepted.status_code == 200, accepted.json
    third = recommend(client, auth, customer_id="again", severity=2)
    assert third["incident"]["prior_incidents"] == 2
    assert "senior-contact-for-repeat-victims" in third["fired_rules"]
    assert any(n.startswith("repeat victim: incident 3 of this customer") for n in third["notes"])
    for plan in third["plans"]:
        assert any("incident 3 of this customer in 60 days" in r for r in plan["reasons"])
        levels = {a["level"] for a in plan["overdelivery"] if a["kind"] == "personal_contact"}
        assert levels & {"manager", "executive", "leader"}
    other = recommend(client, auth, customer_id="first-time", severity=2)
    assert other["incident"]["prior_incidents"] == 0


def test_a_five_times_gift_is_offered_where_the_rules_allow_and_the_value_justifies_it(
    funded, client, auth
):
    body = recommend(
        client,
        auth,
        severity=5,
        loss_amount="100.00",
        customer_value="100000.00",
        channel="social",
        churn_threat=True,
        reach=50000,
        limit=5,
    )
    with_5x = [p for p in body["plans"] if any(a["item_id"] == "gift_5x" for a in p["actions"])]
    assert with_5x
    assert all(
        Decimal(a["value"]) == Decimal("500.00")
        for p in with_5x
        for a in p["actions"]
        if a["item_id"] == "gift_5x"
    )
    generous = [p for p in body["plans"] if p["generous"]]
    assert len(generous) == 1


def test_no_gift_below_its_minimum_face_value(funded, client, auth):
    body = recommend(client, auth, loss_amount="0.50", limit=10)
    gifts = [a for p in body["plans"] for a in p["actions"] if a["kind"] == "gift"]
    assert gifts == []
    assert "under its minimum of €10.00" in body["excluded_items"]["gift_1x"]  # en-GB money
    assert body["plans"] and fix_of(body["plans"][0])["value"] == "0.50"


@pytest.mark.parametrize("category", ["outage", "billing", "other"])
def test_no_shipping_remedy_where_nothing_ships(funded, client, auth, category):
    body = recommend(client, auth, category=category, limit=10)
    assert all(a["item_id"] != "expedite" for p in body["plans"] for a in p["actions"])
    assert body["excluded_items"]["expedite"].startswith(f"not for {category} incidents")

"""Every customer, every story (issue 21): nothing lost, leaving and left, never nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from remedy.extensions import db
from remedy.i18n import messages_for
from remedy.store.tables import Decision
from tests.conftest import incident_payload
from tests.factories import set_caps, set_pool

FRENCH = messages_for("fr")
GIFT_MINIMUM_EUR = Decimal("10.00")  # min_value of every gift in the default catalog


def recommend(client, auth, team="emea", **incident):  # type: ignore[no-untyped-def]
    body = {"incident": incident_payload(**incident), "team": team}
    answer = client.post("/v1/recommendations", json=body, headers=auth("agent"))
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def codes(facts: list[dict]) -> set[str]:
    return {f["code"] for f in facts}


def test_the_founding_story_a_french_client_who_lost_nothing_and_is_leaving(app, client, auth):
    """A French client on the English sign-in page writes "I'm leaving": nothing lost."""
    set_pool(app, "emea", "5000.00")
    answer = recommend(
        client,
        auth,
        loss_amount="0.00",
        locale="fr-FR",
        churn_threat=True,
        category="other",
        channel="email",
        severity=3,
        customer_value="1800.00",
    )
    assert answer["plans"], answer["notes"]
    best = answer["plans"][0]
    kinds = {a["kind"] for a in best["actions"]}
    assert "apology" in kinds
    # A manager or someone more senior goes to bat, required by the rule for those leaving.
    levels = {a["level"] for a in best["actions"] if a["kind"] == "personal_contact"}
    assert levels & {"manager", "executive", "leader"}, best["actions"]
    assert "a-person-for-those-leaving" in answer["fired_rules"]
    # Nothing to give back: no refund or credit, and never a cents-worth gesture.
    assert not kinds & {"refund", "credit", "replacement"}
    assert answer["excluded_codes"]["refund_full"]["code"] == "nothing_lost"
    for plan in answer["plans"]:
        for action in plan["actions"]:
            if action["kind"] == "gift":
                assert Decimal(action["value"]) >= GIFT_MINIMUM_EUR
    # The answer is due within 30 minutes; the talking points are French and say what we fixed.
    points = best["talking_points"]
    assert points["language"] == "fr" and points["respond_within"] == "PT30M"
    assert (
        FRENCH(
            "Tell them what we have fixed so it does not happen again, and thank them for "
            "telling us."
        )
        in points["points"]
    )
    assert (
        FRENCH(
            "They said they will leave: listen first, fix it now, and ask what would make them stay."
        )
        in points["points"]
    )
    assert "no_loss_sized" in codes(best["reason_codes"])


def test_the_overdelivery_cap_without_a_loss_comes_from_severity_and_value(client, auth):
    answer = recommend(client, auth, loss_amount="0", severity=4, customer_value="100000.00")
    terms = answer["caps"]["terms"]
    # 20.00 EUR per severity point (no_loss_basis) x 4 x the loss multiple of severe failures
    # of ours (4)
    assert Decimal(terms["loss_multiple"]) == Decimal("320.00")
    assert Decimal(answer["caps"]["amount"]) > 0


def test_leaving_implies_a_churn_threat(app, client, auth):
    answer = recommend(client, auth, customer_status="leaving", churn_threat=False)
    assert answer["incident"]["churn_threat"] is True
    assert answer["incident"]["customer_status"] == "leaving"
    assert "a-person-for-those-leaving" in answer["fired_rules"]


def test_a_customer_who_left_gets_money_back_a_senior_person_and_an_open_door(app, client, auth):
    set_pool(app, "emea", "5000.00", currency="GBP")
    answer = recommend(
        client,
        auth,
        customer_status="left",
        customer_value="0.00",
        loss_amount="315.00",
        currency="GBP",
        category="billing",
        locale="en-GB",
    )
    assert answer["plans"]
    for plan in answer["plans"]:
        assert "credit" not in {a["kind"] for a in plan["actions"]}, plan["plan_id"]
    best = answer["plans"][0]
    kinds = {a["kind"]: a for a in best["actions"]}
    assert "apology" in kinds and "refund" in kinds
    assert Decimal(kinds["refund"]["value"]) == Decimal("315.00")
    levels = {a["level"] for a in best["actions"] if a["kind"] == "personal_contact"}
    assert levels & {"manager", "executive", "leader"}
    assert "win_back" in codes(best["reason_codes"])
    assert any("win them back" in r for r in best["reasons"])
    assert any("door stays open" in p for p in best["talking_points"]["points"])
    assert "credit" in answer["excluded_items"]


def test_an_empty_pool_never_leaves_the_agent_with_nothing_and_names_the_pool(app, client, auth):
    """29 EUR left in the pool, a 200 EUR make-whole fix: not `plans: []`."""
    set_pool(app, "emea", "29.00")
    answer = recommend(client, auth, loss_amount="200.00", severity=3)
    assert answer["plans"], answer["notes"]
    (offered,) = [p for p in answer["plans"] if p["blocked_by"]]
    assert offered["blocked_by"]["limit"] == "pool"
    assert offered["blocked_by"]["who"] == "finance"
    assert "PUT /v1/budgets" in offered["blocked_by"]["how"]
    assert "apology" in {a["kind"] for a in offered["actions"]}
    assert Decimal(offered["total_cost"]) <= Decimal("29.00")
    # The note blames the pool, not the per-incident cap.
    blocked_note = next(n for n in answer["note_codes"] if n["code"] == "nothing_fits_who")
    assert blocked_note["params"]["reason"]["fact"]["code"] == "no_longer_fits"
    assert "pool" in " ".join(answer["notes"]) and "incident cap" not in " ".join(answer["notes"])
    # The plan offered can be accepted: it fits what is left.
    accepted = client.post(
        f"/v1/decisions/{answer['decision_id']}/accept",
        json={"plan_id": offered["plan_id"]},
        headers=auth("agent"),
    )
    assert accepted.status_code == 200, accepted.get_json()


def test_a_fix_ceiling_under_the_loss_is_named_with_who_lifts_it(app, client, auth):
    set_pool(app, "emea", "10000.00")
    set_caps(app, fix_ceiling={"EUR": "50.00"})
    answer = recommend(client, auth, loss_amount="400.00")
    assert answer["plans"]
    (offered,) = [p for p in answer["plans"] if p["blocked_by"]]
    assert offered["blocked_by"]["limit"] == "fix_ceiling"
    assert offered["blocked_by"]["how_code"]["code"] == "who_caps"
    assert any("fix ceiling" in n for n in answer["notes"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("customer_status", "gone"), ("loss_amount", "-1.00"), ("customer_status", 3)],
)
def test_bad_status_or_negative_loss_is_a_422_naming_the_field(app, client, auth, field, value):
    before = _decisions(app)
    body = {"incident": incident_payload(**{field: value})}
    answer = client.post("/v1/recommendations", json=body, headers=auth("agent"))
    assert answer.status_code == 422
    assert f"incident.{field}" in answer.get_json()["errors"]
    assert _decisions(app) == before


def _decisions(app) -> int:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    with db.database(app).unit_of_work() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Decision))

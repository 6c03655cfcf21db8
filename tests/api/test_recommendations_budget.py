"""Recommendations inside what is left: misfits are left out, pacing prices cost when ahead."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from remedy.decisions.record import DecisionRecord
from remedy.extensions import db
from remedy.ledger.periods import period_at
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService
from remedy.services.recommendations import RecommendationService
from tests.conftest import incident_payload
from tests.factories import decision_row, make_incident, said, set_caps, set_pool, store


def recommend(client, auth, **incident):
    body = {"incident": incident_payload(**incident), "team": "emea", "limit": 10}
    response = client.post("/v1/recommendations", json=body, headers=auth())
    assert response.status_code == 201, response.json
    return response.json


def test_plans_over_what_is_left_of_the_pool_are_left_out_and_said_so(app, client, auth):
    set_pool(app, "emea", "50.00")  # the fix (a replacement at cost, 36.00) fits; most extras not
    body = recommend(client, auth)
    assert body["plans"]
    assert all(Decimal(p["total_cost"]) <= Decimal("50.00") for p in body["plans"])
    note = next(n for n in body["notes"] if "no longer fit" in n)
    assert "the pool emea/" in note and "has €50.00 left" in note
    assert any(d["reason"].startswith("no longer fits: the pool") for d in body["dropped"])


def test_plans_over_the_customer_window_are_left_out(app, client, auth):
    set_pool(app, "emea", "5000.00")
    set_caps(app, customer_window={"days": 90, "limit": {"EUR": "45.00"}})
    body = recommend(client, auth)
    assert body["plans"]
    assert all(Decimal(p["total_cost"]) <= Decimal("45.00") for p in body["plans"])
    assert any("customer cust-1 has €45.00 left of the 90-day limit" in n for n in body["notes"])


def test_plans_with_a_contact_nobody_can_make_today_are_left_out(app, client, auth):
    set_pool(app, "emea", "5000.00")
    set_caps(app, contact_capacity={"agent": 0, "manager": 0})
    body = recommend(client, auth)
    kinds = {a["kind"] for p in body["plans"] for a in p["actions"]}
    assert body["plans"] and "personal_contact" not in kinds
    assert any("no manager contact is left today (0 of 0 taken)" in n for n in body["notes"])


def test_with_no_manager_call_left_a_severe_incident_still_gets_plans_and_a_note(app, client, auth):
    """A rule requires a manager's call; none is left today: an agent's call stands in."""
    set_pool(app, "emea", "5000.00")
    set_caps(app, contact_capacity={"manager": 0})
    body = recommend(client, auth, severity=4)
    assert body["plans"]
    for plan in body["plans"]:
        levels = {a["level"] for a in plan["actions"] if a["kind"] == "personal_contact"}
        assert levels and "manager" not in levels
    note = next(n for n in body["notes"] if n.startswith("no manager contact is left today"))
    assert "senior-contact-when-severe-and-ours" in note and "level agent instead" in note


def test_one_teams_used_up_managers_leave_another_teams_managers_free(app, client, auth):
    """Contact capacity is counted per team: EMEA's last manager call of the day is taken,
    AMER still gets its own manager for the same severe incident."""
    set_pool(app, "emea", "5000.00")
    set_pool(app, "amer", "5000.00")
    set_caps(app, contact_capacity={"manager": 1})
    call = "apology+contact_manager"
    (taken,) = store(app, decision_row({call: ("20.00", False)}, customer_id="e0", team="emea"))
    accepted = client.post(
        f"/v1/decisions/{taken}/accept", json={"plan_id": call}, headers=auth("agent")
    )
    assert accepted.status_code == 200, accepted.json

    def levels(team: str) -> set[str]:
        body = {"incident": incident_payload(severity=4), "team": team, "limit": 10}
        answer = client.post("/v1/recommendations", json=body, headers=auth())
        assert answer.status_code == 201, answer.json
        return {
            a["level"]
            for p in answer.json["plans"]
            for a in p["actions"]
            if a["kind"] == "personal_contact"
        }

    assert "manager" not in levels("emea")
    assert "manager" in levels("amer")


def test_without_a_pool_plans_are_shown_and_the_notes_say_accepting_needs_one(client, auth):
    body = recommend(client, auth)
    assert body["plans"]
    assert any("no budget pool for team emea" in n for n in body["notes"])


def next_month(hours: int) -> datetime:
    """A moment `hours` into next month (pools set now are in effect then)."""
    return period_at("month", datetime.now(UTC)).end + timedelta(hours=hours)


def decide(app, at):
    """Recommend for a severe incident of ours at `at`; return the stored decision."""
    with db.database(app).unit_of_work() as session:
        engine = app_services.engines(app).engine(session)
        incident = make_incident(severity=4, customer_value="1500", loss_amount="120", team="emea")
        decision = RecommendationService(session, engine).recommend(incident, 5, "test", at=at)
        unpaced = engine.decide(incident)
        return decision, unpaced


def test_spending_ahead_of_the_calendar_prices_cost_and_cheaper_plans_win(app):
    set_pool(app, "emea", "1000.00")
    early = next_month(12)
    (spender,) = store(app, decision_row({"apology+gift_1x": ("800.00", False)}, customer_id="x"))
    with db.database(app).unit_of_work() as session:
        caps = app_services.engines(app).engine(session).caps
        service = LifecycleService(session, caps, timedelta(days=30), clock=lambda: early)
        service.begin()
        service.accept(spender, "apology+gift_1x", "test")
    decision, unpaced = decide(app, early)
    assert decision.cost_price == "3.00"  # 80% spent 2% into the month: capped
    record = DecisionRecord.of(decision)
    notes = said(record.notes)
    assert any("cost priced at 3.00x" in n for n in notes)
    shown = said(record.presentation[decision.shown[0]].reasons)
    assert any("shadow price 3.00" in r for r in shown)
    # The agent reads that cheaper plans are preferred, without the price.
    agent_notes = said(record.notes, finance=False)
    assert any("cheaper plans are preferred" in n for n in agent_notes)
    assert not any(
        "shadow price" in n
        for n in agent_notes + said(record.presentation[decision.shown[0]].reasons, finance=False)
    )
    paced_top = DecisionRecord.of(decision).candidate(decision.shown[0])
    unpaced_top = unpaced.kept[0].scored.plan
    assert paced_top.total_cost < unpaced_top.total_cost
    assert any(n.startswith("budget pacing changed the top plan") for n in notes)


def test_below_pace_pacing_holds_nothing_back(app):
    set_pool(app, "emea", "1000.00")
    decision, unpaced = decide(app, next_month(12))
    assert decision.cost_price == "1"
    assert decision.shown[:5] == [c.plan_id for c in unpaced.kept[:5]]
    assert decision.shown[5:] == [unpaced.generous.plan_id]  # the most generous, as an option
    assert any("shadow price 1" in n for n in said(DecisionRecord.of(decision).notes))

"""Accept, approve, reject, fulfil, cancel and expiry through the API, with the ledger checked
(replays and refused requests: test_lifecycle_requests.py)."""

from __future__ import annotations

import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import (
    AuditEntry,
    LedgerEntry,
)
from tests.api.lifecycle_steps import CALL, EXEC, GIFT, decision_status, ledger_rows, post
from tests.conftest import row_count
from tests.factories import decision_row, set_caps, set_pool, store, verify


def test_accept_reserves_fulfil_commits_less_and_releases_the_rest(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("40.00", False)}))
    accepted = post(client, auth, decision_id, "accept", {"plan_id": GIFT})
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "reserved"
    assert accepted.json["reservation"]["reserved"] == "40.00"
    assert accepted.json["reservation"]["pool"].startswith("emea/")
    pool = client.get("/v1/budgets", headers=auth("finance")).json["pools"][0]
    assert (pool["reserved"], pool["committed"], pool["remaining"]) == ("40.00", "0.00", "60.00")
    fulfilled = post(client, auth, decision_id, "fulfil", {"actual_cost": "32.50"})
    assert fulfilled.status_code == 200, fulfilled.json
    assert fulfilled.json["status"] == "fulfilled"
    assert fulfilled.json["reservation"]["committed"] == "32.50"
    pool = client.get("/v1/budgets", headers=auth("finance")).json["pools"][0]
    assert (pool["reserved"], pool["committed"], pool["remaining"]) == ("0.00", "32.50", "67.50")
    with db.database(pooled).unit_of_work() as session:
        kinds = session.scalars(sa.select(LedgerEntry.kind).order_by(LedgerEntry.id)).all()
    assert kinds == ["reserve", "commit", "release"]
    assert verify(pooled).ok


def test_pool_that_would_break_is_409_naming_the_pool(pooled, client, auth):
    first, second = store(
        pooled, decision_row({GIFT: ("70.00", False)}), decision_row({GIFT: ("40.00", False)})
    )
    assert post(client, auth, first, "accept", {"plan_id": GIFT}).status_code == 200
    before = ledger_rows(pooled)
    refused = post(client, auth, second, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    (message,) = refused.json["errors"]["limit"]
    assert message.startswith("pool emea/") and "exceed the limit of €100.00" in message
    assert "remaining €30.00" in message
    (limit,) = refused.json["facts"]["limit"]  # the same limit as data
    assert limit["code"] == "limit_pool"
    assert limit["params"]["remaining"] == {"money": ["30.00", "EUR"]}
    assert ledger_rows(pooled) == before
    assert decision_status(pooled, second) == "proposed"
    assert verify(pooled).ok


def test_customer_window_that_would_break_is_409(pooled, client, auth):
    set_caps(pooled, customer_window={"days": 90, "limit": {"EUR": "50.00"}})
    first, second, other = store(
        pooled,
        decision_row({GIFT: ("30.00", False)}, customer_id="serial"),
        decision_row({GIFT: ("30.00", False)}, customer_id="serial"),
        decision_row({GIFT: ("30.00", False)}, customer_id="someone-else"),
    )
    assert post(client, auth, first, "accept", {"plan_id": GIFT}).status_code == 200
    refused = post(client, auth, second, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"] == [
        "customer serial: €30.00 more would exceed the 90-day limit of €50.00 (already €30.00)"
    ]
    assert post(client, auth, other, "accept", {"plan_id": GIFT}).status_code == 200
    assert verify(pooled).ok


def test_contact_capacity_that_would_break_is_409_and_cancel_gives_it_back(pooled, client, auth):
    set_caps(pooled, contact_capacity={"manager": 1})
    first, second = store(
        pooled,
        decision_row({CALL: ("20.00", False)}, customer_id="a"),
        decision_row({CALL: ("20.00", False)}, customer_id="b"),
    )
    assert post(client, auth, first, "accept", {"plan_id": CALL}).status_code == 200
    refused = post(client, auth, second, "accept", {"plan_id": CALL})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("contact capacity manager of team ")
    assert "1 of 1 contacts already taken" in refused.json["errors"]["limit"][0]
    cancelled = post(client, auth, first, "cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["reservation"]["state"] == "released"
    assert post(client, auth, second, "accept", {"plan_id": CALL}).status_code == 200
    assert verify(pooled).ok


def test_contact_capacity_is_counted_per_team_with_each_teams_own_override(app, client, auth):
    set_pool(app, "emea", "100.00")
    set_pool(app, "amer", "100.00")
    set_pool(app, "apac", "100.00")
    set_caps(app, contact_capacity={"manager": 1}, team_contact_capacity={"apac": {"manager": 2}})
    emea, emea_again, amer, apac, apac_again, apac_third = store(
        app,
        decision_row({CALL: ("20.00", False)}, customer_id="e1", team="emea"),
        decision_row({CALL: ("20.00", False)}, customer_id="e2", team="emea"),
        decision_row({CALL: ("20.00", False)}, customer_id="u1", team="amer"),
        decision_row({CALL: ("20.00", False)}, customer_id="p1", team="apac"),
        decision_row({CALL: ("20.00", False)}, customer_id="p2", team="apac"),
        decision_row({CALL: ("20.00", False)}, customer_id="p3", team="apac"),
    )
    assert post(client, auth, emea, "accept", {"plan_id": CALL}).status_code == 200
    # EMEA's manager of the day is taken: EMEA is refused, AMER's own manager is still free.
    refused = post(client, auth, emea_again, "accept", {"plan_id": CALL})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("contact capacity manager of team emea ")
    assert post(client, auth, amer, "accept", {"plan_id": CALL}).status_code == 200
    # APAC's override gives it two managers a day.
    assert post(client, auth, apac, "accept", {"plan_id": CALL}).status_code == 200
    assert post(client, auth, apac_again, "accept", {"plan_id": CALL}).status_code == 200
    assert post(client, auth, apac_third, "accept", {"plan_id": CALL}).status_code == 409
    assert verify(app).ok


def test_a_refusal_is_said_in_the_readers_language_with_the_same_facts(pooled, client, auth):
    first, second = store(
        pooled, decision_row({GIFT: ("70.00", False)}), decision_row({GIFT: ("40.00", False)})
    )
    assert post(client, auth, first, "accept", {"plan_id": GIFT}).status_code == 200
    english = post(client, auth, second, "accept", {"plan_id": GIFT})
    german = client.post(
        f"/v1/decisions/{second}/accept",
        json={"plan_id": GIFT},
        headers={**auth("agent"), "Accept-Language": "de-DE"},
    )
    assert english.status_code == german.status_code == 409
    assert english.json["facts"] == german.json["facts"]
    assert english.json["message"].startswith("the plan does not fit: pool emea/")
    assert german.json["message"].startswith("der Plan passt nicht in die Grenzen: Budget emea/")
    (said,) = german.json["errors"]["limit"]
    assert "überschreiten" in said and "30,00" in said  # German words, German money


def test_every_broken_limit_is_named(pooled, client, auth):
    set_caps(pooled, customer_window={"days": 30, "limit": {"EUR": "10.00"}})
    (decision_id,) = store(pooled, decision_row({GIFT: ("150.00", False)}))
    refused = post(client, auth, decision_id, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    limits = refused.json["errors"]["limit"]
    assert [m.split(" ")[0] for m in limits] == ["pool", "customer"]


def test_team_without_pool_spends_from_the_default_pool_else_409(app, client, auth):
    (first,) = store(app, decision_row({GIFT: ("10.00", False)}, team="apac"))
    refused = post(client, auth, first, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    assert "no budget pool for team apac (nor a default pool) in EUR" in refused.json["message"]
    set_pool(app, "default", "50.00")
    accepted = post(client, auth, first, "accept", {"plan_id": GIFT})
    assert accepted.status_code == 200
    assert accepted.json["reservation"]["pool"].startswith("default/")
    assert verify(app).ok


def test_plan_needing_approval_waits_and_reserves_only_when_finance_approves(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({EXEC: ("90.00", True)}))
    pending = post(client, auth, decision_id, "accept", {"plan_id": EXEC})
    assert pending.status_code == 200
    assert (pending.json["status"], pending.json["reservation"]) == ("pending_approval", None)
    assert row_count(pooled, LedgerEntry) == 0
    before = ledger_rows(pooled)
    denied = post(client, auth, decision_id, "approve", role="agent")
    assert denied.status_code == 403
    assert ledger_rows(pooled) == before
    assert decision_status(pooled, decision_id) == "pending_approval"
    approved = post(client, auth, decision_id, "approve", role="finance")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "reserved"
    assert approved.json["reservation"]["reserved"] == "90.00"
    with db.database(pooled).unit_of_work() as session:
        actors = session.scalars(
            sa.select(AuditEntry.after).where(AuditEntry.entity_id == decision_id)
        ).all()
    assert [a["status"] for a in actors] == ["pending_approval", "reserved"]
    assert verify(pooled).ok


def test_approval_that_no_longer_fits_is_409(pooled, client, auth):
    big, small = store(
        pooled, decision_row({EXEC: ("90.00", True)}), decision_row({GIFT: ("20.00", False)})
    )
    assert post(client, auth, big, "accept", {"plan_id": EXEC}).status_code == 200
    assert post(client, auth, small, "accept", {"plan_id": GIFT}).status_code == 200
    refused = post(client, auth, big, "approve", role="finance")
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("pool emea/")
    assert decision_status(pooled, big) == "pending_approval"


def test_rejected_plan_reserves_nothing(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({EXEC: ("90.00", True)}))
    post(client, auth, decision_id, "accept", {"plan_id": EXEC})
    rejected = post(client, auth, decision_id, "reject", {"reason": "too much"}, role="finance")
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    with db.database(pooled).unit_of_work() as session:
        last = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last.after == {"status": "rejected", "plan_id": EXEC, "note": "too much"}
    assert post(client, auth, decision_id, "approve", role="finance").status_code == 409
    assert row_count(pooled, LedgerEntry) == 0


def test_higher_actual_cost_waits_for_approval_then_commits_if_it_fits(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("40.00", False)}))
    post(client, auth, decision_id, "accept", {"plan_id": GIFT})
    over = post(client, auth, decision_id, "fulfil", {"actual_cost": "45.00"})
    assert over.status_code == 202, over.json
    assert over.json["status"] == "overage_pending_approval"
    assert over.json["reservation"]["requested"] == "45.00"
    rejected = post(
        client, auth, decision_id, "reject", {"reason": "over the quote"}, role="finance"
    )
    assert rejected.json["status"] == "reserved"
    assert rejected.json["reservation"]["requested"] is None
    again = post(client, auth, decision_id, "fulfil", {"actual_cost": "45.00"})
    assert again.status_code == 202
    approved = post(client, auth, decision_id, "approve", role="finance")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "fulfilled"
    assert approved.json["reservation"]["committed"] == "45.00"
    pool = client.get("/v1/budgets", headers=auth("finance")).json["pools"][0]
    assert (pool["reserved"], pool["committed"]) == ("0.00", "45.00")
    assert verify(pooled).ok


def test_overage_that_breaks_the_pool_is_409(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("40.00", False)}))
    post(client, auth, decision_id, "accept", {"plan_id": GIFT})
    post(client, auth, decision_id, "fulfil", {"actual_cost": "140.00"})
    refused = post(client, auth, decision_id, "approve", role="finance")
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("pool emea/")
    assert decision_status(pooled, decision_id) == "overage_pending_approval"
    assert verify(pooled).ok


def test_expired_reservations_are_released_by_the_next_write_to_the_pool(app, client, auth):
    app.config["RESERVATION_TTL_SECONDS"] = 0
    set_pool(app, "emea", "50.00")
    first, second = store(
        app, decision_row({GIFT: ("40.00", False)}), decision_row({GIFT: ("40.00", False)})
    )
    assert post(client, auth, first, "accept", {"plan_id": GIFT}).status_code == 200
    accepted = post(client, auth, second, "accept", {"plan_id": GIFT})
    assert accepted.status_code == 200, accepted.json
    assert decision_status(app, first) == "expired"
    late = post(client, auth, first, "fulfil", {"actual_cost": "40.00"})
    assert late.status_code == 409 and "is expired" in late.json["message"]
    assert verify(app).ok

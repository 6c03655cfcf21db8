"""Accept, approve, reject, fulfil, cancel and expiry through the API, with the ledger checked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import (
    AuditEntry,
    Decision,
    IdempotencyKey,
    LedgerEntry,
    PoolCounter,
    Reservation,
)
from tests.conftest import row_count
from tests.factories import decision_row, set_caps, set_pool, store, verify

GIFT = "apology+gift_1x"
CALL = "apology+contact_manager"
EXEC = "apology+contact_executive"


def post(client, auth, decision_id, step, body=None, role="agent", key=None):
    headers = auth(role)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/v1/decisions/{decision_id}/{step}", json=body, headers=headers)


def ledger_rows(app):
    """Everything the ledger wrote, to show that a refused request wrote nothing."""
    return tuple(
        row_count(app, model) for model in (LedgerEntry, Reservation, PoolCounter, IdempotencyKey)
    )


def decision_status(app, decision_id):
    with db.database(app).unit_of_work() as session:
        return session.get(Decision, decision_id).status


@pytest.fixture
def pooled(app):
    """A 100.00 EUR monthly pool for emea."""
    set_pool(app, "emea", "100.00")
    return app


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


def test_retry_with_the_same_key_replays_and_changes_nothing(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("40.00", False)}))
    first = post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="k-1")
    before = ledger_rows(pooled), row_count(pooled, AuditEntry)
    retry = post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="k-1")
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json == first.json
    assert (ledger_rows(pooled), row_count(pooled, AuditEntry)) == before
    other_body = post(client, auth, decision_id, "accept", {"plan_id": CALL}, key="k-1")
    assert other_body.status_code == 422
    assert "Idempotency-Key" in other_body.json["errors"]
    other_path = post(client, auth, decision_id, "cancel", key="k-1")
    assert other_path.status_code == 422
    assert (ledger_rows(pooled), row_count(pooled, AuditEntry)) == before


def test_fulfil_and_cancel_replay_too(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("40.00", False)}))
    post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="a")
    body = {"actual_cost": "40.00"}
    first = post(client, auth, decision_id, "fulfil", body, key="f")
    again = post(client, auth, decision_id, "fulfil", body, key="f")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    without_key = post(client, auth, decision_id, "fulfil", body)
    assert without_key.status_code == 409
    assert row_count(pooled, LedgerEntry) == 2


def test_an_error_is_not_stored_so_a_retry_runs_again(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("140.00", False)}))
    assert post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="x").status_code == 409
    set_pool(pooled, "emea", "200.00")
    retry = post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="x")
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers


def test_keys_belong_to_their_api_key(pooled, client, auth, keys):
    first, second = store(
        pooled, decision_row({GIFT: ("10.00", False)}), decision_row({GIFT: ("10.00", False)})
    )
    assert post(client, auth, first, "accept", {"plan_id": GIFT}, key="same").status_code == 200
    admin = post(client, auth, second, "accept", {"plan_id": GIFT}, role="admin", key="same")
    assert admin.status_code == 200 and "Idempotent-Replayed" not in admin.headers


@pytest.mark.parametrize(
    ("step", "body", "role", "status", "field"),
    [
        ("accept", {"plan_id": "apology+gift_5x"}, "agent", 422, "plan_id"),
        ("accept", {"plan_id": "apology+credit"}, "agent", 422, "plan_id"),
        ("accept", {}, "agent", 422, "plan_id"),
        ("accept", {"plan_id": GIFT, "extra": 1}, "agent", 422, "extra"),
        ("accept", {"plan_id": GIFT}, "finance", 403, None),
        ("approve", None, "agent", 403, None),
        ("reject", None, "agent", 403, None),
        ("fulfil", {"actual_cost": "10.00"}, "agent", 409, "status"),
        ("cancel", None, "agent", 409, "status"),
        ("approve", None, "finance", 409, "status"),
    ],
)
def test_bad_requests_are_clear_4xx_and_write_nothing(
    pooled, client, auth, step, body, role, status, field
):
    (decision_id,) = store(
        pooled,
        decision_row(
            {GIFT: ("10.00", False), "apology+credit": ("200.00", False)},
            dropped={"apology+credit": ("cost 200.00 EUR is over the incident cap", "cap")},
        ),
    )
    before = ledger_rows(pooled), row_count(pooled, AuditEntry)
    response = post(client, auth, decision_id, step, body, role=role, key="bad-1")
    assert response.status_code == status, response.json
    assert response.json["code"] == status
    if field:
        assert field in response.json["errors"], response.json
    assert (ledger_rows(pooled), row_count(pooled, AuditEntry)) == before
    assert decision_status(pooled, decision_id) == "proposed"


def test_unknown_decision_is_404(pooled, client, auth):
    response = post(client, auth, "nope", "accept", {"plan_id": GIFT}, key="k")
    assert response.status_code == 404
    assert ledger_rows(pooled) == (0, 0, 0, 0)


def test_accepting_twice_with_different_keys_is_409(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("10.00", False), CALL: ("20.00", False)}))
    assert post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="1").status_code == 200
    before = ledger_rows(pooled)
    twice = post(client, auth, decision_id, "accept", {"plan_id": CALL}, key="2")
    assert twice.status_code == 409
    assert "is reserved; accept needs it to be proposed" in twice.json["errors"]["status"][0]
    assert ledger_rows(pooled) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"actual_cost": "-1.00"}, "actual_cost"),
        ({"actual_cost": "10.00", "currency": "USD"}, "currency"),
        ({"actual_cost": "10.001"}, "actual_cost"),
        ({"actual_cost": 10.5}, "actual_cost"),
        ({"actual_cost": "ten"}, "actual_cost"),
        ({"actual_cost": "10.00", "currency": "EUX"}, "currency"),
        ({}, "actual_cost"),
    ],
)
def test_bad_actual_cost_is_422_and_writes_nothing(pooled, client, auth, body, field):
    (decision_id,) = store(pooled, decision_row({GIFT: ("10.00", False)}))
    post(client, auth, decision_id, "accept", {"plan_id": GIFT})
    before = ledger_rows(pooled)
    response = post(client, auth, decision_id, "fulfil", body, key="f-1")
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert ledger_rows(pooled) == before
    assert decision_status(pooled, decision_id) == "reserved"


def test_bad_idempotency_key_is_422(pooled, client, auth):
    (decision_id,) = store(pooled, decision_row({GIFT: ("10.00", False)}))
    response = post(client, auth, decision_id, "accept", {"plan_id": GIFT}, key="has space")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]

"""The lifecycle steps' replays and refusals through the API: the same Idempotency-Key replays
the first answer and changes nothing, an error is not stored, and a bad request is a clear 4xx
that writes nothing to the ledger."""

from __future__ import annotations

import pytest

from remedy.store.tables import (
    AuditEntry,
    LedgerEntry,
)
from tests.api.lifecycle_steps import CALL, GIFT, decision_status, ledger_rows, post
from tests.conftest import row_count
from tests.factories import decision_row, set_pool, store


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

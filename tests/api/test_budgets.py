"""Finance sets pools per team and currency; every change is a new, audited version."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import AuditEntry, BudgetPool, ConfigVersion
from tests.conftest import row_count
from tests.factories import default_document

POOL = {"period": "month", "limit": "5000.00", "currency": "EUR"}


def test_finance_sets_a_pool_and_everyone_reads_it(app, client, auth):
    response = client.put("/v1/budgets/emea", json=POOL, headers=auth("finance"))
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["team"], body["limit"], body["remaining"], body["version"]) == (
        "emea",
        "5000.00",
        "5000.00",
        1,
    )
    assert body["pace"]["cost_price"] == "1"
    pools = client.get("/v1/budgets", headers=auth("agent")).json["pools"]
    assert [(p["team"], p["currency"], p["period"]) for p in pools] == [("emea", "EUR", "month")]
    assert pools[0]["period_key"] == datetime.now(UTC).strftime("%Y-%m")


def test_every_change_is_audited_with_old_and_new(app, client, auth):
    client.put("/v1/budgets/emea", json=POOL, headers=auth("finance"))
    weekly = {"period": "week", "limit": "900.00", "currency": "EUR"}
    assert client.put("/v1/budgets/emea", json=weekly, headers=auth("finance")).status_code == 200
    with db.database(app).unit_of_work() as session:
        entries = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "budget_pool").order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].entity_id == "emea/EUR"
        assert entries[1].before["limit"] == "5000.00" and entries[1].after["limit"] == "900.00"
        assert entries[1].after["period"] == "week"
        assert entries[1].actor and entries[1].at
    pools = client.get("/v1/budgets", headers=auth("finance")).json["pools"]
    assert (pools[0]["period"], pools[0]["limit"], pools[0]["version"]) == ("week", "900.00", 2)


def test_a_scheduled_pool_takes_effect_later(app, client, auth):
    client.put("/v1/budgets/emea", json=POOL, headers=auth("finance"))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = client.put(
        "/v1/budgets/emea",
        json={**POOL, "limit": "8000.00", "effective_at": later},
        headers=auth("finance"),
    )
    assert response.status_code == 200
    (pool,) = client.get("/v1/budgets", headers=auth("finance")).json["pools"]
    assert pool["limit"] == "5000.00"
    assert pool["scheduled"]["limit"] == "8000.00"


@pytest.mark.parametrize(
    ("team", "body", "field"),
    [
        ("emea", {**POOL, "period": "year"}, "period"),
        ("emea", {**POOL, "limit": "-1.00"}, "limit"),
        ("emea", {**POOL, "limit": 5000.5}, "limit"),
        ("emea", {**POOL, "limit": "50.001"}, "limit"),
        ("emea", {**POOL, "currency": "EUX"}, "currency"),
        ("emea", {"period": "month", "limit": "1.00"}, "currency"),
        ("emea", {**POOL, "effective_at": "2020-01-01T00:00:00+00:00"}, "effective_at"),
        ("emea", {**POOL, "effective_at": "2030-01-01T00:00:00"}, "effective_at"),
        ("a b", POOL, "team"),
    ],
)
def test_bad_pools_are_422_and_write_nothing(app, client, auth, team, body, field):
    audited = row_count(app, AuditEntry)
    response = client.put(f"/v1/budgets/{team}", json=body, headers=auth("finance"))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert (row_count(app, BudgetPool), row_count(app, AuditEntry)) == (0, audited)


def test_agents_cannot_set_pools(app, client, auth):
    assert client.put("/v1/budgets/emea", json=POOL, headers=auth("agent")).status_code == 403
    assert row_count(app, BudgetPool) == 0


def test_finance_sets_window_capacity_and_pacing_in_the_caps(app, client, auth):
    caps = default_document("caps")
    caps["customer_window"] = {"days": 30, "limit": {"EUR": "200.00"}}
    caps["contact_capacity"] = {"manager": 3, "executive": 1}
    caps["pacing"] = {"strength": "2", "max_price": "4"}
    response = client.put("/v1/caps", json=caps, headers=auth("finance"))
    assert response.status_code == 200, response.json
    assert response.json["document"]["contact_capacity"] == {"manager": 3, "executive": 1}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("customer_window", {"days": 0, "limit": {"EUR": "1.00"}}),
        ("customer_window", {"days": 30, "limit": {"XYZ": "1.00"}}),
        ("customer_window", {"days": 30, "limit": {"EUR": "1.555"}}),
        ("contact_capacity", {"intern": 3}),
        ("contact_capacity", {"manager": -1}),
        ("pacing", {"max_price": "0.5"}),
        ("effective_at", "2020-01-01T00:00:00+00:00"),
    ],
)
def test_bad_caps_are_refused(app, client, auth, key, value):
    caps = {**default_document("caps"), key: value}
    response = client.put("/v1/caps", json=caps, headers=auth("finance"))
    assert response.status_code == 422, response.json
    assert row_count(app, ConfigVersion) == 4  # catalog, rules, caps, exchange rates


def test_scheduled_caps_take_effect_at_their_time(app, client, auth):
    caps = default_document("caps")
    caps["approvals"]["agent_up_to"]["EUR"] = "1.00"
    caps["effective_at"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.put("/v1/caps", json=caps, headers=auth("finance")).status_code == 200
    active = client.get("/v1/caps", headers=auth("agent")).json
    assert active["version"] == 1
    history = client.get("/v1/caps/history", headers=auth("finance")).json["versions"]
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["effective_at"] > history[1]["effective_at"]


def test_pool_history_lists_every_version_with_its_state(app, client, auth):
    """Finance sees who set which limit when: active, scheduled and superseded versions."""
    client.put("/v1/budgets/emea", json=POOL, headers=auth("finance"))
    weekly = {"period": "week", "limit": "900.00", "currency": "EUR"}
    client.put("/v1/budgets/emea", json=weekly, headers=auth("finance"))
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    client.put(
        "/v1/budgets/emea",
        json={**POOL, "limit": "7000.00", "effective_at": later},
        headers=auth("finance"),
    )
    client.put("/v1/budgets/emea", json={**POOL, "currency": "USD"}, headers=auth("finance"))
    response = client.get("/v1/budgets/emea/history", headers=auth("finance"))
    assert response.status_code == 200, response.json
    rows = [
        (v["currency"], v["version"], v["period"], v["limit"], v["state"])
        for v in response.json["versions"]
    ]
    assert rows == [
        ("EUR", 3, "month", "7000.00", "scheduled"),
        ("EUR", 2, "week", "900.00", "active"),
        ("EUR", 1, "month", "5000.00", "superseded"),
        ("USD", 1, "month", "5000.00", "active"),
    ]
    assert all(len(v["created_by"]) == 8 for v in response.json["versions"])
    only_usd = client.get("/v1/budgets/emea/history?currency=USD", headers=auth("admin"))
    assert [v["currency"] for v in only_usd.json["versions"]] == ["USD"]


def test_pool_history_refuses_what_it_cannot_show(app, client, auth):
    """Agents may not read it, an unknown team is 404, a bad currency names the field."""
    client.put("/v1/budgets/emea", json=POOL, headers=auth("finance"))
    assert client.get("/v1/budgets/emea/history", headers=auth("agent")).status_code == 403
    missing = client.get("/v1/budgets/apac/history", headers=auth("finance"))
    assert missing.status_code == 404 and "apac" in missing.json["message"]
    bad = client.get("/v1/budgets/emea/history?currency=EURO", headers=auth("finance"))
    assert bad.status_code == 422 and "currency" in bad.json["errors"]
    assert client.get("/v1/budgets/emea/history").status_code == 401
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("finance", team="apac", label="apac finance")
    scoped = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/budgets/emea/history", headers=scoped).status_code == 403

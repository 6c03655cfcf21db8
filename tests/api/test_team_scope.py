"""One team-scope policy: a key scoped to a team reads and changes that team only, whatever its
role (budgets, reports, what-ifs, keys, audit); the `default` pool belongs to unscoped finance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import utcnow
from tests.conftest import incident_payload
from tests.factories import set_pool, simulated


@pytest.fixture
def scoped(app):
    """Keys of every role for emea and for apac: headers by (role, team)."""
    tokens = {}
    with db.database(app).unit_of_work() as session:
        for team in ("emea", "apac"):
            for role in ("agent", "finance", "admin"):
                tokens[(role, team)], _ = KeyService(session).create(role, team, f"{role}@{team}")
    return lambda role, team: {"Authorization": f"Bearer {tokens[(role, team)]}"}


def _window() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def _accepted(client, headers, team: str) -> None:
    """A decision of `team` with its first plan accepted."""
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload(), "team": team}, headers=headers
    ).json
    plan = next(p for p in body["plans"] if not p["requires_approval"])
    answer = client.post(
        f"/v1/decisions/{body['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.json


def test_scoped_finance_sets_only_its_own_pool(client, scoped):
    pool = {"period": "month", "limit": "100.00", "currency": "EUR"}
    finance = scoped("finance", "emea")
    assert client.put("/v1/budgets/emea", json=pool, headers=finance).status_code == 200
    other = client.put("/v1/budgets/apac", json=pool, headers=finance)
    assert other.status_code == 403 and "team" in other.json["errors"]
    assert client.put("/v1/budgets/default", json=pool, headers=finance).status_code == 403


def test_scoped_finance_reads_and_replays_only_its_team(app, client, scoped):
    for team in ("emea", "apac"):
        set_pool(app, team, "5000.00")
        _accepted(client, scoped("agent", team), team)
    finance = scoped("finance", "emea")
    spend = client.get(
        "/v1/reports/spend", query_string={**_window(), "group_by": "team"}, headers=finance
    ).json
    assert [row["group"] for row in spend["rows"]] == ["emea"]
    diagnose = client.get("/v1/reports/diagnose", query_string=_window(), headers=finance).json
    assert sum(row["incidents"] for row in diagnose["rows"]) == 1
    replay = simulated(app, client, _window(), finance)
    assert replay["current"]["decisions"] == 1
    pools = [{"team": "apac", "period": "month", "limit": "1.00", "currency": "EUR"}]
    refused = client.post(
        "/v1/budgets/simulate", json={**_window(), "pools": pools}, headers=finance
    )
    assert refused.status_code == 403 and "pools.0.team" in refused.json["errors"]


def test_scoped_admin_mints_lists_revokes_and_audits_its_team_only(app, client, scoped):
    admin = scoped("admin", "emea")
    minted = client.post("/v1/keys", json={"role": "admin"}, headers=admin)
    assert minted.status_code == 201 and minted.json["team"] == "emea"
    assert minted.headers["Cache-Control"] == "no-store"
    refused = client.post("/v1/keys", json={"role": "agent", "team": "apac"}, headers=admin)
    assert refused.status_code == 403
    listed = client.get("/v1/keys", headers=admin).json["keys"]
    assert {k["team"] for k in listed} == {"emea"}
    apac_agent = next(
        k["prefix"]
        for k in client.get("/v1/keys", headers=scoped("admin", "apac")).json["keys"]
        if k["role"] == "agent"
    )
    assert client.post(f"/v1/keys/{apac_agent}/revoke", headers=admin).status_code == 404
    assert client.get("/v1/whoami", headers=scoped("agent", "apac")).status_code == 200
    client.post("/v1/keys", json={"role": "agent"}, headers=scoped("admin", "apac"))
    entries = client.get("/v1/audit", headers=admin).json["entries"]
    assert entries and all(e["actor"] in {k["prefix"] for k in listed} for e in entries)

"""Team-scoped keys see only their team; admins read the audit log."""

from remedy.extensions import db
from remedy.services.keys import KeyService
from tests.conftest import incident_payload


def scoped_key(app, team):
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("agent", team=team, label=f"{team} desk")
    return {"Authorization": f"Bearer {token}"}


def test_scoped_agent_recommends_for_its_team_only(app, client):
    emea = scoped_key(app, "emea")
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=emea
    ).json
    assert body["team"] == "emea"
    other = client.post(
        "/v1/recommendations", json={"incident": incident_payload(), "team": "apac"}, headers=emea
    )
    assert other.status_code == 403 and "team" in other.json["errors"]


def test_scoped_agent_cannot_read_another_teams_decision(app, client, auth):
    apac = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(), "team": "apac"},
        headers=auth("agent"),
    ).json
    emea = scoped_key(app, "emea")
    assert client.get(f"/v1/decisions/{apac['decision_id']}", headers=emea).status_code == 404
    assert (
        client.get(f"/v1/decisions/{apac['decision_id']}", headers=auth("agent")).status_code == 200
    )


def test_admin_reads_the_audit_log_newest_first(client, auth):
    caps = client.get("/v1/caps", headers=auth("finance")).json["document"]
    caps["max_extras"] = 3
    assert client.put("/v1/caps", json=caps, headers=auth("finance")).status_code == 200
    entries = client.get("/v1/audit?entity=caps", headers=auth("admin")).json["entries"]
    assert entries[0]["action"] == "update" and entries[0]["after"]["max_extras"] == 3
    assert entries[0]["before"]["max_extras"] == 2
    everything = client.get("/v1/audit?limit=2", headers=auth("admin")).json["entries"]
    assert len(everything) == 2 and everything[0]["id"] > everything[1]["id"]
    assert client.get("/v1/audit", headers=auth("finance")).status_code == 403
    assert client.get("/v1/audit?limit=0", headers=auth("admin")).status_code == 422


def test_scoped_agent_cannot_accept_another_teams_decision(app, client, auth):
    apac = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(), "team": "apac"},
        headers=auth("agent"),
    ).json
    emea = scoped_key(app, "emea")
    response = client.post(
        f"/v1/decisions/{apac['decision_id']}/accept",
        json={"plan_id": apac["plans"][0]["plan_id"]},
        headers=emea,
    )
    assert response.status_code == 404


def test_scoped_key_sees_only_its_pool(app, client, auth):
    for team in ("emea", "apac"):
        assert (
            client.put(
                f"/v1/budgets/{team}",
                json={"period": "month", "limit": "1000.00", "currency": "EUR"},
                headers=auth("finance"),
            ).status_code
            == 200
        )
    pools = client.get("/v1/budgets", headers=scoped_key(app, "emea")).json["pools"]
    assert {p["team"] for p in pools} == {"emea"}
    everything = client.get("/v1/budgets", headers=auth("finance")).json["pools"]
    assert {"emea", "apac"} <= {p["team"] for p in everything}

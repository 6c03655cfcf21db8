"""API keys: roles, hashing, revocation."""

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import hash_key
from remedy.store.tables import ApiKey, AuditEntry
from tests.conftest import incident_payload


def test_admin_creates_a_key_shown_once_and_stored_hashed(app, client, auth):
    response = client.post(
        "/v1/keys", json={"role": "agent", "team": "emea", "label": "desk 4"}, headers=auth("admin")
    )
    assert response.status_code == 201
    token = response.json["key"]
    assert token.startswith(f"rmd_{response.json['prefix']}_")
    with db.database(app).unit_of_work() as session:
        row = session.scalars(
            sa.select(ApiKey).where(ApiKey.prefix == response.json["prefix"])
        ).one()
        assert row.key_hash == hash_key(token) and token not in row.key_hash
    listed = client.get("/v1/keys", headers=auth("admin")).json["keys"]
    assert all("key" not in k for k in listed)
    ok = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload()},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert ok.status_code == 201


def test_revoked_key_stops_working_and_revocation_is_audited(app, client, auth, keys):
    prefix = keys["agent"].split("_")[1]
    response = client.post(f"/v1/keys/{prefix}/revoke", headers=auth("admin"))
    assert response.status_code == 200 and response.json["revoked_at"]
    again = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=auth("agent")
    )
    assert again.status_code == 401
    with db.database(app).unit_of_work() as session:
        assert session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.action == "revoke", AuditEntry.entity_id == prefix
            )
        ).one()


def test_only_admins_manage_keys(client, auth):
    for role in ("agent", "finance"):
        assert client.get("/v1/keys", headers=auth(role)).status_code == 403
        assert (
            client.post("/v1/keys", json={"role": "admin"}, headers=auth(role)).status_code == 403
        )
    bad = client.post("/v1/keys", json={"role": "god"}, headers=auth("admin"))
    assert bad.status_code == 422 and "role" in bad.json["errors"]
    assert client.post("/v1/keys/nope/revoke", headers=auth("admin")).status_code == 404

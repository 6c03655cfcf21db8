"""Model versions: registered from skops artifacts, promoted and rolled back by admins, picked up
by every worker without a restart."""

import json
import shutil

from remedy import create_app
from remedy.extensions import db
from remedy.services.model_registry import ModelRegistry
from tests.conftest import incident_payload


def register(app, folder):
    with db.database(app).unit_of_work() as session:
        return ModelRegistry(session).register(folder, "test").version


def copy_as(folder, tmp_path, version):
    """The same model under another version name."""
    target = tmp_path / version
    shutil.copytree(folder, target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = version
    (target / "card.json").write_text(json.dumps(card))
    return target


def recommend_version(client, auth):
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=auth()
    ).json
    return body["versions"]["model"]


def test_promote_and_rollback_change_the_model_on_the_next_request(
    app, client, auth, artifact_dir, tmp_path
):
    assert recommend_version(client, auth) == "heuristic-prior-1"
    first = register(app, artifact_dir)
    second = register(app, copy_as(artifact_dir, tmp_path, "test-model-2"))
    response = client.post(
        f"/v1/models/{first}/promote", json={"reason": "first"}, headers=auth("admin")
    )
    assert response.status_code == 200 and response.json["version"] == first
    assert recommend_version(client, auth) == first
    client.post(f"/v1/models/{second}/promote", json={}, headers=auth("admin"))
    assert recommend_version(client, auth) == second
    back = client.post("/v1/models/rollback", json={"reason": "AUC fell"}, headers=auth("admin"))
    assert back.status_code == 200 and back.json["version"] == first
    assert back.json["reason"] == f"rollback from {second}: AUC fell"
    assert recommend_version(client, auth) == first
    listing = client.get("/v1/models", headers=auth("finance")).json
    assert listing["current"] == first
    assert {m["version"]: m["promoted"] for m in listing["models"]} == {first: True, second: False}
    last = {m["version"]: m["last_promotion"]["reason"] for m in listing["models"]}
    assert last == {first: f"rollback from {second}: AUC fell", second: ""}
    audit = client.get("/v1/audit?entity=model", headers=auth("admin")).json
    newest = audit["entries"][0]
    assert (newest["action"], newest["entity_id"]) == ("promote", first)
    assert newest["after"] == {"version": first, "reason": f"rollback from {second}: AUC fell"}
    assert [p["version"] for p in listing["promotions"]] == [first, second, first]
    card = client.get(f"/v1/models/{first}", headers=auth("finance")).json["card"]
    assert card["model_sha256"] and card["feature_names"]


def test_another_worker_picks_up_a_promotion_without_restart(
    app, client, auth, artifact_dir, database_url, tmp_path
):
    other_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATE_LIMIT": "",
            "MODEL_DIR": str(tmp_path / "other-worker"),
        }
    )
    other = other_app.test_client()
    try:
        assert recommend_version(other, auth) == "heuristic-prior-1"
        version = register(app, artifact_dir)
        client.post(f"/v1/models/{version}/promote", json={}, headers=auth("admin"))
        assert recommend_version(other, auth) == version
    finally:
        db.database(other_app).dispose()


def test_tampered_artifact_is_refused(app, artifact_dir, tmp_path):
    import pytest

    from remedy.errors import InvalidInput

    bad = copy_as(artifact_dir, tmp_path, "tampered")
    data = bytearray((bad / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "model.skops").write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="sha256"):
        register(app, bad)


def test_only_admins_promote_and_unknown_versions_are_404(client, auth):
    assert client.post("/v1/models/x/promote", json={}, headers=auth("finance")).status_code == 403
    assert client.post("/v1/models/nope/promote", json={}, headers=auth("admin")).status_code == 404
    assert client.post("/v1/models/rollback", headers=auth("admin")).status_code == 409
    assert client.get("/v1/models", headers=auth("agent")).status_code == 403

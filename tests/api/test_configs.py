"""Admins change catalog and rules, finance the caps; each change is a new, audited version."""

import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import AuditEntry, ConfigVersion, Decision
from tests.conftest import incident_payload, row_count
from tests.factories import default_document


def test_active_documents_are_readable(client, auth):
    for kind in ("catalog", "rules", "caps"):
        response = client.get(f"/v1/{kind}", headers=auth("agent"))
        assert response.status_code == 200
        assert response.json["version"] == 1
        assert response.json["document"]["version"] == 1


def test_admin_changes_the_catalog_and_decisions_record_the_new_version(app, client, auth):
    document = default_document("catalog")
    gift = next(i for i in document["items"] if i["id"] == "gift_2x")
    gift["labels"]["en"] = "A present worth twice the loss"
    response = client.put("/v1/catalog", json=document, headers=auth("admin"))
    assert response.status_code == 200, response.json
    assert response.json["version"] == 2
    decision = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=auth()
    ).json
    assert decision["versions"]["catalog"] == "2"
    with db.database(app).unit_of_work() as session:
        entry = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "catalog", AuditEntry.entity_id == "2")
        ).one()
        assert entry.action == "update"
        assert entry.before["version"] == 1 and entry.after["version"] == 2
        assert (
            entry.actor == client.get("/v1/keys", headers=auth("admin")).json["keys"][0]["prefix"]
        )


def test_rule_change_takes_effect_on_the_next_request(client, auth):
    document = default_document("rules")
    document["rules"].append(
        {
            "id": "no-gifts-on-social",
            "description": "keep gifts private",
            "when": 'channel == "social"',
            "forbid": {"kinds": ["gift"]},
        }
    )
    assert client.put("/v1/rules", json=document, headers=auth("admin")).status_code == 200
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload(channel="social")}, headers=auth()
    ).json
    assert "no-gifts-on-social" in body["fired_rules"]
    assert all(a["kind"] != "gift" for p in body["plans"] for a in p["actions"])
    assert body["versions"]["rules"] == "2"


def test_bad_rule_is_rejected_by_id_and_nothing_changes(app, client, auth):
    document = default_document("rules")
    rule = next(r for r in document["rules"] if r["id"] == "senior-contact-when-severe-and-ours")
    rule["when"] = "severity >>> 4"
    before = row_count(app, ConfigVersion), row_count(app, AuditEntry)
    response = client.put("/v1/rules", json=document, headers=auth("admin"))
    assert response.status_code == 422
    assert "senior-contact-when-severe-and-ours" in response.json["message"]
    assert "rules" in response.json["errors"]
    assert (row_count(app, ConfigVersion), row_count(app, AuditEntry)) == before


def test_rule_naming_an_item_missing_from_the_catalog_is_refused(client, auth):
    document = default_document("rules")
    document["rules"][0] = {
        "id": "ghost",
        "description": "refers to nothing",
        "when": "true",
        "require": {"item": "free_car"},
    }
    response = client.put("/v1/rules", json=document, headers=auth("admin"))
    assert response.status_code == 422
    assert "free_car" in response.json["message"]


def test_removing_a_catalog_item_that_rules_use_is_refused(client, auth):
    document = default_document("catalog")
    document["items"] = [i for i in document["items"] if i["id"] != "contact_executive"]
    response = client.put("/v1/catalog", json=document, headers=auth("admin"))
    assert response.status_code == 422
    assert "contact_executive" in response.json["message"]


def test_finance_sets_caps_but_not_rules_and_agents_neither(client, auth):
    caps = default_document("caps")
    caps["approvals"]["agent_up_to"]["EUR"] = "100.00"
    assert client.put("/v1/caps", json=caps, headers=auth("agent")).status_code == 403
    response = client.put("/v1/caps", json=caps, headers=auth("finance"))
    assert response.status_code == 200 and response.json["version"] == 2
    rules = default_document("rules")
    assert client.put("/v1/rules", json=rules, headers=auth("finance")).status_code == 403
    history = client.get("/v1/caps/history", headers=auth("finance")).json["versions"]
    assert [v["version"] for v in history] == [2, 1]


def test_config_put_needs_json_object(client, auth):
    response = client.put("/v1/caps", json=["not", "a", "mapping"], headers=auth("finance"))
    assert response.status_code == 422


def test_a_synonym_is_decided_and_stored_as_its_canonical_category(client, auth):
    body = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(category="Shipping")},
        headers=auth(),
    ).json
    assert body["incident"]["category"] == "delivery"
    # the delivery remedies are offered, exactly as for "delivery"
    same = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(category="delivery")},
        headers=auth(),
    ).json
    assert [p["plan_id"] for p in body["plans"]] == [p["plan_id"] for p in same["plans"]]
    assert any(a["kind"] == "replacement" for p in body["plans"] for a in p["actions"])


def test_an_unknown_category_is_refused_naming_the_field_and_the_known_ones(app, client, auth):
    before = row_count(app, Decision)
    response = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(category="martian")},
        headers=auth(),
    )
    assert response.status_code == 422
    message = response.json["errors"]["incident.category"][0]
    assert "martian" in message and "delivery" in message and "billing" in message
    assert row_count(app, Decision) == before


def test_admin_sets_a_vocabulary_and_a_bad_one_is_refused(client, auth):
    document = default_document("catalog")
    document["categories"]["delivery"].append("returns")
    assert client.put("/v1/catalog", json=document, headers=auth("admin")).status_code == 200
    body = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(category="returns")},
        headers=auth(),
    ).json
    assert body["incident"]["category"] == "delivery"
    document["categories"]["billing"].append("returns")
    response = client.put("/v1/catalog", json=document, headers=auth("admin"))
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    said = errors.get("catalog.categories.billing") or errors["catalog.categories.delivery"]
    assert "synonym 'returns' is already a synonym of" in said[0]
    assert client.get("/v1/catalog", headers=auth("agent")).json["version"] == 2

"""Migration 0009 (approval requests) goes up and down, and a caps version stored before tiers
(one approval_threshold) still loads from the database and decides as it did."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.store.migrate import downgrade, upgrade
from remedy.store.tables import ConfigVersion
from tests.conftest import incident_payload
from tests.factories import default_document


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_0009_adds_and_removes_the_approval_requests_table(app, database_url):
    db.database(app).dispose()
    assert "approval_requests" in _tables(database_url)
    downgrade(database_url, "0006")
    assert "approval_requests" not in _tables(database_url)
    upgrade(database_url)
    assert "approval_requests" in _tables(database_url)


def test_a_caps_version_stored_before_tiers_still_loads_and_sends_to_finance(app, client, auth):
    old = default_document("caps")
    del old["approvals"]
    old["approval_threshold"] = {"EUR": "50.00", "USD": "55.00"}
    old["version"] = 2
    with db.database(app).unit_of_work() as session:  # written as an older release stored it
        session.add(ConfigVersion(kind="caps", version=2, document=old, created_by="old"))
    with db.database(app).unit_of_work() as session:
        caps = ConfigService(session).load_active().caps
    assert caps.version == 2 and caps.approval_threshold["EUR"] == Decimal("50.00")
    body = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(loss_amount="100.00")},
        headers=auth("agent"),
    ).json
    assert body["caps"]["approval_threshold"] == "50.00"
    needing = [p for p in body["plans"] if p["requires_approval"]]
    assert needing and {p["approver"] for p in needing} == {"finance"}
    history = client.get("/v1/caps", headers=auth("finance")).json
    assert history["version"] == 2

"""The decision's answer dumped by the compiled plan is marshmallow's dump of DecisionSchema, on
stored decisions read by every kind of reader; the OpenAPI document still names the schema."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from flask import g

from remedy.api.approvals import approval_status
from remedy.api.dumping import compile_dumper
from remedy.api.recommendations import dump_decision
from remedy.api.schemas import DecisionSchema
from remedy.extensions import db
from remedy.presenting import present_decision
from remedy.presenting.decisions import Reader
from remedy.services.keys import Principal
from remedy.store.tables import Decision
from tests.conftest import incident_payload

CATEGORIES = ["delivery", "billing", "product_defect", "outage", "service_rudeness", "other"]


def varied_incidents(count: int) -> list[dict]:
    """Incidents across faults, losses, currencies, locales, channels and flags (seeded)."""
    rng = random.Random(26)
    return [
        incident_payload(
            customer_id=f"c{rng.randrange(30)}",  # repeats: prior incidents, notes
            severity=rng.randint(1, 5),
            fault_type=rng.choice(["company", "partner", "customer", "unknown"]),
            customer_value=f"{rng.randrange(0, 30000)}.00",
            loss_amount=rng.choice(["0.00", "12.50", f"{rng.randrange(1, 3000)}.99"]),
            currency=rng.choice(["EUR", "USD", "GBP", "JPY"]),
            category=rng.choice(CATEGORIES),
            channel=rng.choice(["email", "chat", "phone", "social", "review"]),
            locale=rng.choice(["en-GB", "fr-FR", "de-DE", "ja-JP", "xx-YY"]),
            churn_threat=rng.random() < 0.3,
            public=rng.random() < 0.2,
            reach=rng.choice([None, 50, 25000]),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("app", [{"EXPLORATION_RATE": Decimal("0.5")}], indirect=True)
def test_the_compiled_dump_equals_marshmallows_on_stored_decisions(app, client, auth):
    """Every stored decision, read by an agent, finance and in other languages, with and
    without an approval, dumps to the same dict both ways; the answers the API gave are it."""
    answers = []
    for n, incident in enumerate(varied_incidents(40)):
        if incident["currency"] == "JPY":
            incident["loss_amount"] = incident["loss_amount"].split(".")[0]
            incident["customer_value"] = incident["customer_value"].split(".")[0]
        body = {"incident": incident, "limit": 1 + n % 5}
        response = client.post("/v1/recommendations", json=body, headers=auth("agent"))
        assert response.status_code == 201, response.json
        answers.append(response.json)
    # One decision sent for approval: the answer then carries where the approval stands.
    waiting = next(a for a in answers if any(p["requires_approval"] for p in a["plans"]))
    plan = next(p for p in waiting["plans"] if p["requires_approval"])
    accepted = client.post(
        f"/v1/decisions/{waiting['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth("agent"),
    )
    assert accepted.status_code in (200, 202), accepted.json

    schema = DecisionSchema()
    readers = [Reader(), Reader("de"), Reader("ja", finance=True), Reader(None, finance=True)]
    compared = 0
    with app.test_request_context(), db.database(app).unit_of_work() as session:
        g.principal = Principal("reader", "finance", None)  # approval_status reads the caller
        rows = session.query(Decision).all()
        assert len(rows) == len(answers)
        for row in rows:
            for reader in readers:
                answer = present_decision(row, reader, approval_status(row))
                assert dump_decision(answer) == schema.dump(answer)
                compared += 1
    assert compared == len(answers) * len(readers)
    assert any(a["dropped"] for a in answers) and any(a["notes"] for a in answers)
    # What the API answered is what marshmallow would have written for that reader.
    got = client.get(f"/v1/decisions/{waiting['decision_id']}", headers=auth("agent")).json
    assert got["approval"] is not None and got["approval"]["state"] == "pending"


def test_a_compiled_dump_keeps_missing_none_and_defaults():
    """Absent keys stay absent, None stays None, dump defaults and data keys apply."""
    from marshmallow import Schema, fields

    class Inner(Schema):
        n = fields.Integer()

    class Outer(Schema):
        name = fields.String(data_key="label")
        when = fields.String(dump_default="never")
        inner = fields.Nested(Inner, allow_none=True)
        many = fields.List(fields.Nested(Inner))
        flags = fields.Dict(keys=fields.String(), values=fields.Boolean())
        raw = fields.Raw()

    dump = compile_dumper(Outer)
    for obj in (
        {},
        {"name": None, "inner": None, "many": None},
        {"name": 5, "inner": {"n": "7"}, "many": [{"n": 1}, {}], "flags": {"a": 1}, "raw": [1]},
    ):
        assert dump(obj) == Outer().dump(obj)


def test_openapi_still_documents_the_decision_schema(client):
    """The answers are dumped another way; the documented contract is the same schema."""
    spec = client.get("/openapi.json").json
    post = spec["paths"]["/v1/recommendations"]["post"]["responses"]["201"]
    get = spec["paths"]["/v1/decisions/{decision_id}"]["get"]["responses"]["200"]
    for documented in (post, get):
        schema = documented["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Decision"}
    assert set(spec["components"]["schemas"]["Decision"]["properties"]) == {
        field.data_key or name for name, field in DecisionSchema().dump_fields.items()
    }

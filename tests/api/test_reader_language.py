"""Decide in data, speak at the edge: one decision read in the reader's language, talking points
in the customer's, finance's numbers for finance only, older records still readable."""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import format_currency

from remedy.extensions import db
from remedy.i18n import messages_for
from remedy.services.keys import KeyService
from remedy.store.tables import Decision
from tests.conftest import incident_payload
from tests.factories import default_document, set_caps

GERMAN = messages_for("de")
JAPANESE = messages_for("ja")


def _recommend(client, headers, **incident):  # type: ignore[no-untyped-def]
    body = {"incident": incident_payload(**incident)}
    response = client.post("/v1/recommendations", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _all_text(answer: dict) -> str:
    """Every string the reader reads besides the talking points."""
    texts = list(answer["notes"]) + list(answer["excluded_items"].values())
    for plan in answer["plans"]:
        texts += plan["reasons"] + [a["label"] for a in plan["actions"]]
    texts += [d["reason"] or "" for d in answer["dropped"]]
    return " | ".join(texts)


def test_a_german_agent_reads_german_and_the_japanese_customer_hears_japanese(client, auth):
    headers = {**auth("agent"), "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    answer = _recommend(
        client, headers, locale="ja-JP", currency="EUR", loss_amount="120.00", severity=4
    )
    assert answer["language"] == "de"
    best = answer["plans"][0]
    fix = best["fix"][0]
    # The label is the German one, the talking points name the Japanese one.
    assert fix["label"] == GERMAN(_english_label(fix["item_id"]))
    points = best["talking_points"]
    assert points["language"] == "ja"
    japanese_label = JAPANESE(_english_label(fix["item_id"]))
    assert any(japanese_label in p for p in points["points"])
    assert points["points"][0] == JAPANESE(
        "Acknowledge what went wrong and how it affected them, in your own words."
    )
    # Reasons, money included, are German (German money format: "120,00 €").
    within = next(r for r in best["reason_codes"] if r["code"] == "within_cap")
    amount, currency = within["params"]["cap"]["money"]
    german_cap = format_currency(Decimal(amount), currency, locale="de_DE")
    assert (
        GERMAN("overdelivery within the incident cap of {cap}", cap=german_cap) in best["reasons"]
    )
    # Excluded items and dropped plans are German too (no English template left in them).
    for said in list(answer["excluded_items"].values()) + [d["reason"] for d in answer["dropped"]]:
        assert said and "forbidden by rule" not in said and "is over the incident cap" not in said


def test_without_accept_language_the_reader_reads_the_customers_language(client, auth):
    answer = _recommend(client, auth("agent"), locale="fr-FR", currency="EUR")
    assert answer["language"] == "fr"
    assert answer["plans"][0]["talking_points"]["language"] == "fr"


def test_an_unknown_reader_language_reads_english(client, auth):
    headers = {**auth("agent"), "Accept-Language": "ko-KR"}
    answer = _recommend(client, headers, locale="fr-FR", currency="EUR")
    assert answer["language"] == "en"
    assert answer["plans"][0]["talking_points"]["language"] == "fr"


def test_agents_read_no_internal_numbers_finance_does(client, auth):
    incident = {"locale": "en-GB", "currency": "EUR", "loss_amount": "80.00"}
    agent = _recommend(client, {**auth("agent"), "Accept-Language": "en"}, **incident)
    text = _all_text(agent)
    for jargon in (
        "P(stay)",
        "shadow price",
        "expected net value",
        "loss_multiple",
        "value_share",
        "probability",
    ):
        assert jargon not in text, jargon
    assert all(r["code"] != "net_value" for r in agent["plans"][0]["reason_codes"])
    # The same decision read by finance carries the numbers, as words and as data.
    response = client.get(
        f"/v1/decisions/{agent['decision_id']}",
        headers={**auth("finance"), "Accept-Language": "en"},
    )
    finance = response.get_json()
    best = finance["plans"][0]
    assert any("P(stay)" in r for r in best["reasons"])
    net = next(r for r in best["reason_codes"] if r["code"] == "net_value")
    assert set(net["params"]) == {"value", "p_stay", "referrals", "cost"}
    assert net["params"]["value"]["money"][1] == "EUR"


def test_the_stored_decision_is_data_not_sentences(app, client, auth):
    answer = _recommend(client, auth("agent"), locale="de-DE", currency="EUR")
    with db.database(app).unit_of_work() as session:
        row = session.get(Decision, answer["decision_id"])
        assert row.record_version == 5
        stored = json.dumps([row.notes, row.excluded_items, row.presentation, row.candidates[:20]])
    # No German (nor English) sentence is stored: codes and parameters only.
    assert "Obergrenze" not in stored and "incident cap" not in stored
    plan = next(iter(row.presentation.values()))
    assert {p["code"] for p in plan["talking_points"]["points"]} >= {"point_acknowledge"}


def test_a_record_of_version_4_still_reads_as_it_was_written(app, client, auth):
    answer = _recommend(client, auth("agent"), locale="fr-FR", currency="EUR")
    decision_id = answer["decision_id"]
    plan_id = answer["plans"][0]["plan_id"]
    with db.database(app).unit_of_work() as session:
        row = session.get(Decision, decision_id)
        items = dict(row.priced_items)
        for item_id, item in items.items():
            item = dict(item)
            item.pop("labels")
            item["label"] = f"libellé {item_id}"
            items[item_id] = item
        session.execute(
            sa.update(Decision)
            .where(Decision.id == decision_id)
            .values(
                record_version=4,
                notes=["une note écrite en français"],
                priced_items=items,
                presentation={
                    plan_id: {
                        "reasons": ["une raison"],
                        "talking_points": {
                            "language": "fr",
                            "respond_within": "PT30M",
                            "fix_within": None,
                            "points": ["Un point."],
                        },
                    }
                },
            )
        )
    response = client.get(
        f"/v1/decisions/{decision_id}", headers={**auth("agent"), "Accept-Language": "de"}
    )
    assert response.status_code == 200
    old = response.get_json()
    assert old["notes"] == ["une note écrite en français"]
    first = next(p for p in old["plans"] if p["plan_id"] == plan_id)
    assert first["reasons"] == ["une raison"]
    assert first["talking_points"]["points"] == ["Un point."]
    assert first["actions"][0]["label"].startswith("libellé ")


def test_the_approval_queue_labels_follow_the_reader(app, client, auth):
    """A lead reading the queue in English sees English labels for an Italian customer (a
    2,000 EUR make-whole is over the agent's 1,000 EUR and finance has every fix approved here:
    a lead approves it)."""
    approvals = default_document("caps")["approvals"]
    set_caps(app, approvals={**approvals, "fix_without_approval": {"EUR": "0"}})
    answer = _recommend(
        client,
        auth("agent"),
        locale="it-IT",
        currency="EUR",
        loss_amount="2000.00",
        customer_value="20000.00",
        severity=3,
    )
    plan = next(p for p in answer["plans"] if p["approver"] == "lead")
    with db.database(app).unit_of_work() as session:
        lead, _ = KeyService(session).create("lead", answer["team"], "lead")
    accepted = client.post(
        f"/v1/decisions/{answer['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=auth("agent"),
    )
    assert accepted.get_json()["status"] == "pending_approval", accepted.get_json()
    headers = {"Authorization": f"Bearer {lead}", "Accept-Language": "en"}
    queue = client.get("/v1/approvals", headers=headers)
    entry = next(
        e for e in queue.get_json()["approvals"] if e["decision_id"] == answer["decision_id"]
    )
    english = [_english_label(a["item_id"]) for a in plan["actions"]]
    assert entry["actions"] == english


def _english_label(item_id: str) -> str:
    """The default catalog's English label of an item."""
    from tests.factories import default_engine

    return default_engine().catalog.item(item_id).labels["en"]

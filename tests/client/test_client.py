"""RemedyClient against the real service (tests/client/conftest.py: `remedy serve` on a seeded
SQLite file): its operations are the API's, the lifecycle and an approval through it, errors in
the envelope, idempotency keys and money never a float. Retries: test_client_retries.py; jobs,
`remedy simulate --url` and mass incidents: test_client_jobs.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from remedy.client import OPERATIONS, RemedyClient, RemedyError
from tests.client.incidents import APPROVAL, SIMPLE


def test_every_operation_the_client_calls_is_in_the_openapi_document(service):
    with urllib.request.urlopen(f"{service['url']}/openapi.json", timeout=10) as response:  # noqa: S310
        spec = json.loads(response.read())
    for name, (method, path) in OPERATIONS.items():
        assert path in spec["paths"], (name, path)
        assert method.lower() in spec["paths"][path], (name, method, path)
        assert hasattr(RemedyClient, name), name
    accept = spec["paths"]["/v1/decisions/{decision_id}/accept"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in accept["parameters"])


def test_whoami_recommend_accept_fulfil_and_outcome(service):
    client = RemedyClient(service["url"], service["agent"])
    assert client.whoami()["role"] == "agent"
    decision = client.recommend(SIMPLE, team="emea", limit=2)
    best = [p for p in decision["plans"] if not p["generous"]]
    assert decision["status"] == "proposed" and len(best) == 2
    plan = decision["plans"][0]
    assert plan["currency"] == "EUR" and Decimal(plan["total_cost"]) > 0
    assert plan["talking_points"]["respond_within"].startswith("P")
    accepted = client.accept(decision["decision_id"], plan["plan_id"])
    assert accepted["status"] == "reserved"
    assert accepted["reservation"]["reserved"] == plan["total_cost"]
    fulfilled = client.fulfil(decision["decision_id"], Decimal(plan["total_cost"]) - 1, "EUR")
    assert fulfilled["status"] == "fulfilled"
    outcome = client.record_outcome(
        decision["decision_id"], True, datetime.now(UTC), referrals=1, csat=5
    )
    assert (outcome["retained"], outcome["referrals"], outcome["plan_id"]) == (
        True,
        1,
        plan["plan_id"],
    )
    assert client.get_decision(decision["decision_id"])["status"] == "fulfilled"


def test_an_approval_is_seen_by_the_agent_and_cancel_releases(service):
    agent = RemedyClient(service["url"], service["agent"])
    finance = RemedyClient(service["url"], service["finance"])
    decision = agent.recommend(APPROVAL, limit=10)  # the plans finance must approve rank lower
    plan = next(p for p in decision["plans"] if p["requires_approval"])
    assert agent.accept(decision["decision_id"], plan["plan_id"])["status"] == "pending_approval"
    assert agent.get_decision(decision["decision_id"])["status"] == "pending_approval"
    approved = finance.approve(decision["decision_id"], note="ok by finance")
    assert approved["status"] == "reserved" and approved["plan_id"] == plan["plan_id"]
    seen = agent.get_decision(decision["decision_id"])
    assert seen["status"] == "reserved"
    assert seen["approval"] is not None
    assert (seen["approval"]["decided_role"], seen["approval"]["reason"]) == (
        "finance",
        "ok by finance",
    )
    assert agent.cancel(decision["decision_id"])["status"] == "cancelled"
    other = agent.recommend({**APPROVAL, "customer_id": "c-vip-2"}, limit=10)
    plan = next(p for p in other["plans"] if p["requires_approval"])
    agent.accept(other["decision_id"], plan["plan_id"])
    rejected = finance.reject(other["decision_id"], "offer the credit instead")
    assert rejected["status"] == "rejected"
    assert agent.get_decision(other["decision_id"])["approval"]["reason"] == (
        "offer the credit instead"
    )


def test_errors_carry_the_envelope(service):
    client = RemedyClient(service["url"], service["agent"])
    with pytest.raises(RemedyError) as invalid:
        client.recommend({**SIMPLE, "severity": 9})
    assert invalid.value.status == 422
    assert invalid.value.envelope["code"] == 422
    assert "incident.severity" in invalid.value.errors
    decision = client.recommend(SIMPLE)
    client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])
    with pytest.raises(RemedyError) as conflict:
        client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])
    assert conflict.value.status == 409
    assert "accept needs it to be proposed" in conflict.value.errors["status"][0]
    with pytest.raises(RemedyError) as forbidden:
        client.approve(decision["decision_id"])
    assert forbidden.value.status == 403
    with pytest.raises(RemedyError) as unknown:
        RemedyClient(service["url"], "rmd_nope_nope").whoami()
    assert unknown.value.status == 401 and unknown.value.message


def test_the_same_idempotency_key_gets_the_first_answer_again(service):
    client = RemedyClient(service["url"], service["agent"])
    decision = client.recommend(SIMPLE)
    plan_id = decision["plans"][0]["plan_id"]
    first = client.accept(decision["decision_id"], plan_id, idempotency_key="ticket-7-accept")
    again = client.accept(decision["decision_id"], plan_id, idempotency_key="ticket-7-accept")
    assert again == first


def test_money_must_not_be_a_float(service):
    client = RemedyClient(service["url"], service["agent"])
    with pytest.raises(TypeError):
        client.fulfil("d", 12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RemedyClient(service["url"], service["agent"], max_attempts=0)

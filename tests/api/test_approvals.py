"""Approval tiers through the API: leads and finance, their queues, escalation, what the agent
sees, and a ledger that stays exact on approve and reject."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import ApprovalRequest, AuditEntry, LedgerEntry, utcnow
from tests.conftest import incident_payload, row_count
from tests.factories import decision_row, key_headers, run_jobs, set_pool, store, verify

GIFT = "apology+gift_1x"
LEAD_TIER = "1500.00"  # default tiers: the agent decides up to 1000.00 EUR, a lead up to 5000.00
FINANCE_TIER = "6000.00"


@pytest.fixture
def people(app):
    """Headers by name: agents, leads and finance of emea and apac, unscoped finance, admin."""
    set_pool(app, "emea", "20000.00")
    set_pool(app, "apac", "20000.00")
    return key_headers(app)


def pending(app, people, client, cost: str, team: str = "emea") -> str:
    """A decision of `team` whose plan costing `cost` was accepted and waits for approval."""
    (decision_id,) = store(app, decision_row({GIFT: (cost, True)}, team=team))
    agent = people("agent" if team == "emea" else "apac agent")
    answer = client.post(
        f"/v1/decisions/{decision_id}/accept", json={"plan_id": GIFT}, headers=agent
    )
    assert answer.status_code == 200 and answer.json["status"] == "pending_approval", answer.json
    return decision_id


def step(client, headers, decision_id, name, body=None):
    return client.post(f"/v1/decisions/{decision_id}/{name}", json=body or {}, headers=headers)


def queue(client, headers, scope=None):
    query = {"scope": scope} if scope else {}
    answer = client.get("/v1/approvals", headers=headers, query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json["approvals"]


def age(app, decision_id: str, minutes: int) -> None:
    """Make a decision's request `minutes` old (as if accepted then)."""
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == decision_id)
            .values(requested_at=utcnow() - timedelta(minutes=minutes))
        )


def test_a_lead_approves_its_team_plan_and_the_agent_sees_who_and_why(app, client, people):
    decision_id = pending(app, people, client, LEAD_TIER)
    (entry,) = queue(client, people("lead"))
    assert (entry["decision_id"], entry["tier"], entry["amount"]) == (
        decision_id,
        "lead",
        LEAD_TIER,
    )
    assert entry["escalated"] is False and entry["kind"] == "plan" and entry["team"] == "emea"
    assert entry["actions"] == ["apology", "gift_1x"] and entry["incident"]["customer_id"]
    waiting = client.get(f"/v1/decisions/{decision_id}", headers=people("agent")).json
    assert waiting["approval"]["state"] == "pending" and waiting["approval"]["tier"] == "lead"
    assert waiting["approval"]["message"].startswith("waiting for a team lead's approval (")
    assert row_count(app, LedgerEntry) == 0  # nothing reserved while it waits

    approved = step(client, people("lead"), decision_id, "approve", {"reason": "loyal customer"})
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "reserved"
    assert approved.json["reservation"]["reserved"] == LEAD_TIER
    seen = client.get(f"/v1/decisions/{decision_id}", headers=people("agent")).json["approval"]
    lead_prefix = client.get("/v1/whoami", headers=people("lead")).json["prefix"]
    assert (seen["state"], seen["decided_role"], seen["decided_by"], seen["reason"]) == (
        "approved",
        "lead",
        lead_prefix,
        "loyal customer",
    )
    assert seen["message"] == "approved by a team lead: loyal customer"
    german = {**people("agent"), "Accept-Language": "de"}  # said in the reader's language
    seen_de = client.get(f"/v1/decisions/{decision_id}", headers=german).json["approval"]
    assert seen_de["message"] == "freigegeben durch eine Teamleitung: loyal customer"
    assert seen["waiting_seconds"] is None and seen["decided_at"]
    assert queue(client, people("lead")) == []
    budget = client.get("/v1/budgets", headers=people("finance")).json["pools"]
    emea = next(p for p in budget if p["team"] == "emea")
    assert (emea["reserved"], emea["committed"]) == (LEAD_TIER, "0.00")
    assert verify(app).ok


def test_a_lead_cannot_decide_another_team_or_above_its_tier(app, client, people):
    other_team = pending(app, people, client, LEAD_TIER, team="apac")
    too_big = pending(app, people, client, FINANCE_TIER)
    assert queue(client, people("lead")) == []  # apac's plan is not emea's; 6000 is finance's
    assert step(client, people("lead"), other_team, "approve").status_code == 404
    refused = step(client, people("lead"), too_big, "approve", {"reason": "fine"})
    assert refused.status_code == 403
    assert refused.json["errors"]["tier"] == [
        "it is above a lead's approval tier: finance decides it"
    ]
    assert step(client, people("lead"), too_big, "reject", {"reason": "no"}).status_code == 403
    assert step(client, people("agent"), too_big, "approve").status_code == 403
    assert client.get("/v1/approvals", headers=people("agent")).status_code == 403
    assert row_count(app, LedgerEntry) == 0
    (entry,) = queue(client, people("finance"))
    assert entry["decision_id"] == too_big and entry["tier"] == "finance"
    # Finance decides every tier: its `all` queue has both, oldest first.
    assert [e["decision_id"] for e in queue(client, people("finance"), "all")] == [
        other_team,
        too_big,
    ]
    assert step(client, people("finance"), too_big, "approve").status_code == 200
    assert step(client, people("apac lead"), other_team, "approve").status_code == 200
    assert verify(app).ok


def test_reject_needs_a_reason_reserves_nothing_and_the_agent_reads_it(app, client, people):
    decision_id = pending(app, people, client, LEAD_TIER)
    refused = step(client, people("lead"), decision_id, "reject", {"reason": "  "})
    assert refused.status_code == 422 and "reason" in refused.json["errors"]
    rejected = step(
        client, people("lead"), decision_id, "reject", {"reason": "offer the credit instead"}
    )
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    seen = client.get(f"/v1/decisions/{decision_id}", headers=people("agent")).json
    assert seen["status"] == "rejected"
    assert seen["approval"]["message"] == "rejected by a team lead: offer the credit instead"
    assert row_count(app, LedgerEntry) == 0 and verify(app).ok
    assert step(client, people("lead"), decision_id, "approve").status_code == 409


def test_the_queue_is_oldest_first_with_waiting_times(app, client, people):
    ids = [pending(app, people, client, LEAD_TIER) for _ in range(3)]
    for decision_id, minutes in zip(ids, (2, 9, 5), strict=True):
        age(app, decision_id, minutes)
    entries = queue(client, people("lead"))
    assert [e["decision_id"] for e in entries] == [ids[1], ids[2], ids[0]]
    head = client.get("/v1/approvals", headers=people("lead"), query_string={"limit": 2})
    assert [e["decision_id"] for e in head.json["approvals"]] == [ids[1], ids[2]]
    waits = [e["waiting_seconds"] for e in entries]
    assert 9 * 60 <= waits[0] < 9 * 60 + 30 and 5 * 60 <= waits[1] < 5 * 60 + 30
    assert 2 * 60 <= waits[2] < 2 * 60 + 30


def snapshot(app):
    """Every approval request as stored, and how many audit entries there are."""
    with db.database(app).unit_of_work() as session:
        requests = session.execute(
            sa.select(
                ApprovalRequest.id,
                ApprovalRequest.tier,
                ApprovalRequest.escalated_at,
                ApprovalRequest.state,
            ).order_by(ApprovalRequest.id)
        ).all()
        audits = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    return [tuple(row) for row in requests], audits


def escalations(app):
    with db.database(app).unit_of_work() as session:
        return session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "escalate")).all()


def test_an_overdue_plan_is_shown_escalated_on_read_and_written_only_by_the_worker(
    app, client, people
):
    late, fresh = (pending(app, people, client, LEAD_TIER) for _ in range(2))
    age(app, late, 16)  # escalate_after is PT15M in the bundled caps
    age(app, fresh, 3)
    before = snapshot(app)
    lead_queue = queue(client, people("lead"))  # the lead still sees it, flagged
    assert [(e["decision_id"], e["escalated"]) for e in lead_queue] == [
        (late, True),
        (fresh, False),
    ]
    (entry,) = queue(client, people("finance"))  # due: in finance's queue before it is written
    assert (entry["decision_id"], entry["tier"], entry["requested_tier"]) == (
        late,
        "finance",
        "lead",
    )
    assert entry["escalated"] is True and entry["escalation_due"] is True and entry["escalated_at"]
    seen = client.get(f"/v1/decisions/{late}", headers=people("agent")).json
    assert seen["status"] == "pending_approval"  # still waiting: escalated, not expired
    assert seen["approval"]["escalated"] is True and seen["approval"]["tier"] == "finance"
    assert seen["approval"]["message"].startswith(
        "escalated to finance: no team lead answered within 15 minutes; waiting 16 minutes"
    )
    assert snapshot(app) == before and escalations(app) == []  # reads wrote nothing

    assert run_jobs(app) == 0  # no job queued: the worker ran its periodic escalation only
    assert snapshot(app) != before
    (audited,) = escalations(app)
    assert audited.before == {"tier": "lead"} and audited.after["tier"] == "finance"
    (entry,) = queue(client, people("finance"))
    assert entry["escalated"] is True and entry["escalation_due"] is False
    assert [e["escalated"] for e in queue(client, people("lead"))] == [True, False]
    assert run_jobs(app) == 0 and len(escalations(app)) == 1  # recorded once
    assert verify(app).ok


def test_escalation_adds_finance_and_the_lead_may_still_answer_first(app, client, people):
    by_lead, by_finance = (pending(app, people, client, LEAD_TIER) for _ in range(2))
    for decision_id in (by_lead, by_finance):
        age(app, decision_id, 20)
    run_jobs(app)  # both escalated and recorded
    approved = step(client, people("lead"), by_lead, "approve", {"reason": "ok"})
    assert approved.status_code == 200 and approved.json["status"] == "reserved"
    seen = client.get(f"/v1/decisions/{by_lead}", headers=people("agent")).json["approval"]
    assert (seen["state"], seen["decided_role"], seen["escalated"]) == ("approved", "lead", True)
    assert step(client, people("finance"), by_lead, "approve").status_code == 409  # lead won
    assert (
        step(client, people("finance"), by_finance, "reject", {"reason": "no"}).status_code == 200
    )
    assert step(client, people("lead"), by_finance, "approve").status_code == 409  # finance won
    assert queue(client, people("lead")) == [] and queue(client, people("finance")) == []
    assert verify(app).ok


def test_reading_queues_and_decisions_writes_nothing_and_hides_other_teams(app, client, people):
    emea = [pending(app, people, client, LEAD_TIER) for _ in range(2)]
    apac = [pending(app, people, client, LEAD_TIER, team="apac") for _ in range(3)]
    for decision_id in (*emea, *apac):
        age(app, decision_id, 30)  # all overdue
    before = snapshot(app)
    for scope in ("mine", "all"):
        assert {e["team"] for e in queue(client, people("lead"), scope)} == {"emea"}
        assert {e["decision_id"] for e in queue(client, people("apac lead"), scope)} == set(apac)
        assert len(queue(client, people("finance"), scope)) == 5
    for decision_id in apac:  # another team's decision is absent for emea's lead
        answer = client.get(f"/v1/decisions/{decision_id}", headers=people("lead"))
        assert answer.status_code == 404
        assert step(client, people("lead"), decision_id, "approve").status_code == 404
        seen = client.get(f"/v1/decisions/{decision_id}", headers=people("apac agent")).json
        assert seen["approval"]["escalated"] is True
    assert snapshot(app) == before and escalations(app) == []


def test_an_overage_goes_to_the_tier_of_the_actual_cost(app, client, people):
    (decision_id,) = store(app, decision_row({GIFT: ("900.00", False)}))
    agent = people("agent")
    assert step(client, agent, decision_id, "accept", {"plan_id": GIFT}).status_code == 200
    over = step(client, agent, decision_id, "fulfil", {"actual_cost": "1200.00"})
    assert over.status_code == 202
    (entry,) = queue(client, people("lead"))
    assert (entry["kind"], entry["amount"], entry["tier"]) == ("overage", "1200.00", "lead")
    approved = step(client, people("lead"), decision_id, "approve", {"reason": "courier surcharge"})
    assert approved.status_code == 200 and approved.json["status"] == "fulfilled"
    assert approved.json["reservation"]["committed"] == "1200.00"
    with db.database(app).unit_of_work() as session:
        kinds = session.scalars(sa.select(LedgerEntry.kind).order_by(LedgerEntry.id)).all()
    assert kinds == ["reserve", "adjust", "commit"]
    assert verify(app).ok


def test_cancel_ends_the_request_and_it_leaves_the_queue(app, client, people):
    decision_id = pending(app, people, client, LEAD_TIER)
    assert step(client, people("agent"), decision_id, "cancel").status_code == 200
    assert queue(client, people("lead")) == []
    seen = client.get(f"/v1/decisions/{decision_id}", headers=people("agent")).json["approval"]
    assert seen["state"] == "cancelled" and seen["message"] == "the request was cancelled"


def test_a_plan_pending_from_before_tiers_is_finance_s(app, client, people):
    decision_id = pending(app, people, client, LEAD_TIER)
    with db.database(app).unit_of_work() as session:
        session.execute(sa.delete(ApprovalRequest))  # as if sent before migration 0009
    assert step(client, people("lead"), decision_id, "approve").status_code == 403
    assert step(client, people("finance"), decision_id, "approve").status_code == 200
    assert verify(app).ok


def test_a_lead_does_what_an_agent_does(app, client, people):
    answer = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=people("lead")
    )
    assert answer.status_code == 201 and answer.json["team"] == "emea"
    plan = answer.json["plans"][0]
    assert plan["approver"] is None and plan["requires_approval"] is False
    accepted = step(
        client, people("lead"), answer.json["decision_id"], "accept", {"plan_id": plan["plan_id"]}
    )
    assert accepted.status_code == 200 and accepted.json["status"] == "reserved"
    assert client.get("/v1/budgets/emea/history", headers=people("lead")).status_code == 403
    assert client.put("/v1/caps", json={}, headers=people("lead")).status_code == 403


def test_lead_keys_are_team_scoped_and_a_scoped_admin_mints_its_own_only(app, client, people):
    admin = people("admin")
    unscoped = client.post("/v1/keys", json={"role": "lead"}, headers=admin)
    assert unscoped.status_code == 422 and "team" in unscoped.json["errors"]
    made = client.post("/v1/keys", json={"role": "lead", "team": "emea"}, headers=admin)
    assert made.status_code == 201 and made.json["role"] == "lead"
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("admin", "emea", "emea admin")
    scoped = {"Authorization": f"Bearer {token}"}
    own = client.post("/v1/keys", json={"role": "lead"}, headers=scoped)
    assert own.status_code == 201 and own.json["team"] == "emea"
    other = client.post("/v1/keys", json={"role": "lead", "team": "apac"}, headers=scoped)
    assert other.status_code == 403 and "team" in other.json["errors"]
    who = client.get("/v1/whoami", headers={"Authorization": f"Bearer {made.json['key']}"})
    assert who.json["role"] == "lead" and who.json["team"] == "emea"


def test_a_bad_queue_scope_or_limit_is_422(client, people):
    answer = client.get("/v1/approvals", headers=people("finance"), query_string={"scope": "x"})
    assert answer.status_code == 422 and "scope" in answer.json["errors"]
    answer = client.get("/v1/approvals", headers=people("lead"), query_string={"limit": 0})
    assert answer.status_code == 422 and "limit" in answer.json["errors"]

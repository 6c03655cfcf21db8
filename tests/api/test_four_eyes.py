"""Four eyes on approvals (the hardening issue, finding 4): nobody approves a plan they asked
for, accepted or asked approval for; an admin decides only in the tiers configured for it; both
configurable per tier (REMEDY_FOUR_EYES_TIERS, REMEDY_ADMIN_APPROVAL_TIERS)."""

from __future__ import annotations

import pytest

from remedy import create_app
from remedy.extensions import db
from remedy.store.tables import Decision, LedgerEntry
from tests.api.test_approvals import FINANCE_TIER, GIFT, LEAD_TIER, step
from tests.conftest import row_count
from tests.factories import decision_row, key_headers, set_pool, store, verify


@pytest.fixture
def people(app):
    """Headers by name: two agents, two leads and two finance keys, and an admin."""
    set_pool(app, "emea", "20000.00")
    return key_headers(
        app,
        (
            ("agent", "agent", "emea"),
            ("lead", "lead", "emea"),
            ("other lead", "lead", "emea"),
            ("finance", "finance", None),
            ("admin", "admin", None),
        ),
    )


def accepted_by(app, client, people, who: str, cost: str) -> str:
    """A decision whose plan costing `cost` `who` accepted; it waits for approval."""
    (decision_id,) = store(app, decision_row({GIFT: (cost, True)}))
    answer = step(client, people(who), decision_id, "accept", {"plan_id": GIFT})
    assert answer.json["status"] == "pending_approval", answer.json
    return decision_id


def refused_as(answer, field: str) -> None:
    """403 in the envelope naming `field`."""
    assert answer.status_code == 403, answer.json
    assert field in answer.json["errors"], answer.json


def status(app, decision_id: str) -> str:
    with db.database(app).unit_of_work() as session:
        return session.get(Decision, decision_id).status


@pytest.mark.parametrize(
    "app", [{"ADMIN_APPROVAL_TIERS": "lead,finance"}], indirect=True
)  # finance keys do not accept plans: an admin in both tiers is the one who could
@pytest.mark.parametrize(
    ("accepter", "cost", "peer"),
    [("lead", LEAD_TIER, "other lead"), ("admin", FINANCE_TIER, "finance")],
)
def test_nobody_approves_a_plan_they_accepted(app, client, people, accepter, cost, peer):
    decision_id = accepted_by(app, client, people, accepter, cost)
    refused = step(client, people(accepter), decision_id, "approve", {"reason": "mine"})
    refused_as(refused, "approver")
    assert "four eyes" in refused.json["message"]
    assert status(app, decision_id) == "pending_approval"
    assert row_count(app, LedgerEntry) == 0
    approved = step(client, people(peer), decision_id, "approve", {"reason": "checked"})
    assert approved.status_code == 200 and approved.json["status"] == "reserved"
    assert verify(app).ok


def test_the_key_that_asked_for_the_decision_does_not_approve_it(app, client, people):
    (decision_id,) = store(app, decision_row({GIFT: (LEAD_TIER, True)}))
    prefix = people("lead")["Authorization"].split("_")[1]  # rmd_<prefix>_<secret>
    with db.database(app).unit_of_work() as session:
        session.get(Decision, decision_id).requested_by = prefix
    assert (
        step(client, people("agent"), decision_id, "accept", {"plan_id": GIFT}).status_code == 200
    )
    refused_as(step(client, people("lead"), decision_id, "approve"), "approver")
    assert step(client, people("other lead"), decision_id, "approve").status_code == 200


def test_nobody_approves_an_overage_they_asked_for_nor_of_a_plan_they_accepted(app, client, people):
    (decision_id,) = store(app, decision_row({GIFT: ("900.00", False)}))
    assert step(client, people("lead"), decision_id, "accept", {"plan_id": GIFT}).status_code == 200
    over = step(client, people("agent"), decision_id, "fulfil", {"actual_cost": "1200.00"})
    assert over.status_code == 202
    refused_as(step(client, people("lead"), decision_id, "approve"), "approver")  # accepted it
    approved = step(client, people("other lead"), decision_id, "approve")
    assert approved.status_code == 200 and approved.json["status"] == "fulfilled"
    assert verify(app).ok


def test_rejecting_what_you_accepted_stays_allowed(app, client, people):
    """Four eyes guard releasing money; taking back one's own plan releases none."""
    decision_id = accepted_by(app, client, people, "lead", LEAD_TIER)
    rejected = step(client, people("lead"), decision_id, "reject", {"reason": "wrong plan"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"


@pytest.mark.parametrize("cost", [LEAD_TIER, FINANCE_TIER])
def test_an_admin_is_in_no_tier_by_default(app, client, people, cost):
    decision_id = accepted_by(app, client, people, "agent", cost)
    for name in ("approve", "reject"):
        refused = step(client, people("admin"), decision_id, name, {"reason": "admin"})
        refused_as(refused, "tier")
        assert "admin key is not in the" in refused.json["message"]
    assert status(app, decision_id) == "pending_approval"


@pytest.mark.parametrize("app", [{"ADMIN_APPROVAL_TIERS": "finance"}], indirect=True)
def test_an_admin_in_the_finance_tier_approves_there_but_never_its_own(app, client, people):
    others = accepted_by(app, client, people, "agent", FINANCE_TIER)
    assert step(client, people("admin"), others, "approve").status_code == 200
    lead_tier = accepted_by(app, client, people, "agent", LEAD_TIER)
    refused_as(step(client, people("admin"), lead_tier, "approve"), "tier")
    own = accepted_by(app, client, people, "admin", FINANCE_TIER)
    refused_as(step(client, people("admin"), own, "approve"), "approver")


@pytest.mark.parametrize(
    "app", [{"FOUR_EYES_TIERS": "finance", "ADMIN_APPROVAL_TIERS": "lead,finance"}], indirect=True
)
def test_four_eyes_are_configured_per_tier(app, client, people):
    lead_plan = accepted_by(app, client, people, "lead", LEAD_TIER)
    assert step(client, people("lead"), lead_plan, "approve").status_code == 200
    own_lead_plan = accepted_by(app, client, people, "admin", LEAD_TIER)
    assert step(client, people("admin"), own_lead_plan, "approve").status_code == 200
    finance_plan = accepted_by(app, client, people, "admin", FINANCE_TIER)
    refused_as(step(client, people("admin"), finance_plan, "approve"), "approver")


def test_an_unknown_tier_stops_the_start(tmp_path):
    with pytest.raises(ValueError, match="unknown approval tier"):
        create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "FOUR_EYES_TIERS": "lead,boss"},
            instance_path=str(tmp_path / "instance"),
        )

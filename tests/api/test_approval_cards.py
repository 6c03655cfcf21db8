"""What an approval card needs from GET /v1/approvals: the server's clock (`as_of`) to count
waiting times on from, why the plan needs approval (codes and words), the customer's value,
churn threat and public reach; and an escalated plan stays in the lead's queue, marked."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import ApprovalRequest, utcnow
from tests.api.test_at_risk import decide, people  # noqa: F401 - the fixture


def test_a_card_has_the_clock_the_reasons_and_the_customer_and_escalation_keeps_it(
    app,
    client,
    people,  # noqa: F811
):
    waiting = decide(
        client,
        people("agent"),
        "emea",
        5,
        accept="lead",
        customer_id="c-card",
        severity=5,
        loss_amount="950.00",
        customer_value="5000.00",
        channel="social",
        reach=25000,
        external_id="T-card",
    )
    (entry,) = client.get("/v1/approvals", headers=people("lead")).json["approvals"]
    answer = client.get("/v1/approvals", headers=people("lead")).json
    assert abs(datetime.fromisoformat(answer["as_of"]) - utcnow()) < timedelta(seconds=30)
    assert entry["decision_id"] == waiting and entry["escalated"] is False
    assert [why["code"] for why in entry["why_codes"]] == ["fix_without_approval", "needs_lead"]
    assert entry["why"][1].startswith("needs a team lead's approval")
    incident = entry["incident"]
    assert incident["customer_value"] == "5000.00"
    assert (incident["public"], incident["reach"], incident["churn_threat"]) == (True, 25000, False)
    assert incident["prior_incidents"] == 0 and incident["customer_status"] == "active"

    with db.database(app).unit_of_work() as session:  # 20 minutes: past escalate_after (15)
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == waiting)
            .values(requested_at=utcnow() - timedelta(minutes=20))
        )
    (entry,) = client.get("/v1/approvals", headers=people("lead")).json["approvals"]
    assert (entry["escalated"], entry["tier"], entry["requested_tier"]) == (True, "finance", "lead")
    assert entry["waiting_seconds"] >= 20 * 60
    german = client.get("/v1/approvals", headers={**people("lead"), "Accept-Language": "de"})
    assert german.json["approvals"][0]["why"][1] != entry["why"][1]

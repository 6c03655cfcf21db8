"""`remedy keys create --role lead` and `remedy approvals escalate`."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from click.testing import CliRunner

from remedy import create_app
from remedy.cli import cli
from remedy.extensions import db
from remedy.store.tables import ApprovalRequest, AuditEntry, utcnow
from tests.factories import decision_row


def run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_lead_keys_need_a_team_and_escalate_moves_overdue_plans_to_finance(tmp_path):
    env = {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    run(env, "init")
    unscoped = run(env, "keys", "create", "--role", "lead")
    assert unscoped.exit_code == 1 and "give its team" in unscoped.output
    assert run(env, "keys", "create", "--role", "lead", "--team", "emea").output.startswith("rmd_")
    assert "lead" in run(env, "keys", "list").output
    agent = run(env, "keys", "create", "--role", "agent", "--team", "emea").output.strip()
    run(env, "budgets", "set", "emea", "--period", "month", "--limit", "9000", "--currency", "EUR")

    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    with db.database(app).unit_of_work() as session:
        rows = [decision_row({"apology+gift_1x": ("1500.00", True)}) for _ in range(2)]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    for decision_id in ids:
        answer = app.test_client().post(
            f"/v1/decisions/{decision_id}/accept",
            json={"plan_id": "apology+gift_1x"},
            headers={"Authorization": f"Bearer {agent}"},
        )
        assert answer.json["status"] == "pending_approval"
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == ids[0])
            .values(requested_at=utcnow() - timedelta(hours=1))
        )
    assert run(env, "approvals", "escalate").output.strip() == (
        "escalated 1 approval request(s) to finance"
    )
    assert "escalated 0" in run(env, "approvals", "escalate").output
    with db.database(app).unit_of_work() as session:
        rows = session.execute(sa.select(ApprovalRequest.decision_id, ApprovalRequest.tier))
        tiers = {decision_id: tier for decision_id, tier in rows}
        assert tiers == {ids[0]: "finance", ids[1]: "lead"}
        assert session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "escalate")).one()
    db.database(app).dispose()

"""Approvers and agents racing on the same pending plans, in separate processes: each plan is
approved at most once (a cancel may release it after), its approval request agrees with the
decision, and the ledger verifies."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.store.tables import ApprovalRequest, Decision
from tests.factories import decision_row, set_pool, store, verify
from tests.ledger import workers
from tests.ledger.test_races import CONTEXT, TIMEOUT

GIFT = "apology+gift_1x"
PLANS = 24


def test_approve_and_cancel_race_and_exactly_one_wins_each_plan(app, client):
    set_pool(app, "emea", "100000.00")
    with db.database(app).unit_of_work() as session:
        keys = KeyService(session)
        tokens = {role: keys.create(role, "emea", role)[0] for role in ("agent", "lead")}
        tokens["finance"] = keys.create("finance", None, "finance")[0]
    ids = store(
        app, *(decision_row({GIFT: ("1500.00", True)}, customer_id=f"c{i}") for i in range(PLANS))
    )
    for decision_id in ids:
        accepted = client.post(
            f"/v1/decisions/{decision_id}/accept",
            json={"plan_id": GIFT},
            headers={"Authorization": f"Bearer {tokens['agent']}"},
        )
        assert accepted.json["status"] == "pending_approval"
    approver = lambda i: tokens["lead" if i % 2 else "finance"]  # noqa: E731
    jobs = [
        [(d, "approve", approver(i), {"reason": "race"}) for i, d in enumerate(ids)],
        [(d, "cancel", tokens["agent"], {}) for d in ids],
        [(d, "approve", approver(i + 1), {}) for i, d in enumerate(reversed(ids))],
    ]
    barrier = CONTEXT.Barrier(len(jobs) + 1)
    results = CONTEXT.Queue()
    url = app.config["DATABASE_URL"]
    processes = [
        CONTEXT.Process(target=workers.fire_steps, args=(url, job, barrier, results))
        for job in jobs
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=TIMEOUT)
    answers = [a for _ in processes for a in results.get(timeout=TIMEOUT)]
    for process in processes:
        process.join(timeout=TIMEOUT)

    assert {status for _, _, status in answers} <= {200, 409}
    approved = Counter(d for d, step, status in answers if step == "approve" and status == 200)
    cancelled = {d for d, step, status in answers if step == "cancel" and status == 200}
    assert set(approved.values()) <= {1}  # approved once at most, however many approvers
    assert set(approved) | cancelled == set(ids)
    with db.database(app).unit_of_work() as session:
        rows = session.execute(
            sa.select(Decision.status, ApprovalRequest.state).join(
                ApprovalRequest, ApprovalRequest.decision_id == Decision.id
            )
        ).all()
    assert len(rows) == PLANS
    # Cancelled while waiting, or approved (and perhaps cancelled after, releasing it).
    assert {(status, state) for status, state in rows} <= {
        ("reserved", "approved"),
        ("cancelled", "cancelled"),
        ("cancelled", "approved"),
    }
    assert verify(app).ok

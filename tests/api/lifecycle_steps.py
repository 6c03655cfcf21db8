"""What the lifecycle tests share (test_lifecycle.py, test_lifecycle_requests.py): the plans they
accept, a step posted through the API, and the ledger's rows and a decision's status read back.
The 100.00 EUR pool they spend from is the `pooled` fixture of tests/api/conftest.py."""

from __future__ import annotations

from remedy.extensions import db
from remedy.store.tables import Decision, IdempotencyKey, LedgerEntry, PoolCounter, Reservation
from tests.conftest import row_count

GIFT = "apology+gift_1x"
CALL = "apology+contact_manager"
EXEC = "apology+contact_executive"


def post(client, auth, decision_id, step, body=None, role="agent", key=None):
    headers = auth(role)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/v1/decisions/{decision_id}/{step}", json=body, headers=headers)


def ledger_rows(app):
    """Everything the ledger wrote, to show that a refused request wrote nothing."""
    return tuple(
        row_count(app, model) for model in (LedgerEntry, Reservation, PoolCounter, IdempotencyKey)
    )


def decision_status(app, decision_id):
    with db.database(app).unit_of_work() as session:
        return session.get(Decision, decision_id).status

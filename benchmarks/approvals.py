"""Benchmark the approvers' reads: a queue with many waiting plans, and an agent's poll.

    python benchmarks/approvals.py [--database-url sqlite:///... | postgresql+psycopg://...]
                                   [--pending 500] [--reads 200]

`--pending` plans (each its own decision, 1,500.00 EUR: the lead tier of the bundled caps) are
accepted and wait; a third of them are made older than `escalate_after`. Then, in process
(Flask's test client, no HTTP), it times: the first queue read (which escalates the overdue
third, audited), `--reads` lead queue reads, `--reads` finance queue reads (`scope=all`), and
`--reads` agent polls of one waiting decision (GET /v1/decisions/<id> with its `approval`).
Prints p50 and p99 in milliseconds. A SQLite database is a temporary file unless given.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from remedy.store.tables import ApprovalRequest, utcnow  # noqa: E402
from tests.factories import decision_row, set_pool  # noqa: E402

PLAN = "apology+gift_1x"


def timed(call, reads: int) -> tuple[float, float]:
    """Call `call` `reads` times; return p50 and p99 in milliseconds."""
    samples = []
    for _ in range(reads):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return statistics.median(samples), cuts[98]


def main() -> None:
    """Seed the waiting plans, time the reads, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pending", type=int, default=500)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/approvals.sqlite"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "RATE_LIMIT": "", "LOG_LEVEL": "ERROR"})
    with db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        keys = KeyService(session)
        tokens = {role: keys.create(role, "emea", "bench")[0] for role in ("agent", "lead")}
        tokens["finance"] = keys.create("finance", None, "bench")[0]
        rows = [
            decision_row({PLAN: ("1500.00", True)}, customer_id=f"c{i}")
            for i in range(args.pending)
        ]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    set_pool(app, "emea", "10000000.00")
    client = app.test_client()
    header = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    for decision_id in ids:
        client.post(
            f"/v1/decisions/{decision_id}/accept", json={"plan_id": PLAN}, headers=header["agent"]
        )
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id.in_(ids[: args.pending // 3]))
            .values(requested_at=utcnow() - timedelta(hours=1))
        )
    start = time.perf_counter()
    first = client.get("/v1/approvals", headers=header["finance"]).json["approvals"]
    escalating = (time.perf_counter() - start) * 1000
    lead = timed(lambda: client.get("/v1/approvals", headers=header["lead"]), args.reads)
    finance = timed(
        lambda: client.get("/v1/approvals?scope=all", headers=header["finance"]), args.reads
    )
    poll = timed(
        lambda: client.get(f"/v1/decisions/{ids[-1]}", headers=header["agent"]), args.reads
    )
    backend = url.split(":")[0]
    print(f"{args.pending} waiting plans on {backend}; {len(first)} escalated by the first read")
    print(f"first finance read (escalates {len(first)}): {escalating:.1f} ms")
    for name, (p50, p99) in (
        (f"lead queue ({args.pending - len(first)} plans)", lead),
        (f"finance queue, scope=all ({args.pending} plans)", finance),
        ("agent poll of one decision", poll),
    ):
        print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    db.database(app).dispose()


if __name__ == "__main__":
    main()

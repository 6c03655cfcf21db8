"""Benchmark the ledger: accepts per second under contention on one pool, and verification time.

    python benchmarks/accept.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                [--workers 4] [--clients 8] [--accepts 2000] [--entries 100000]

1. Contention: a throwaway database on that server is migrated and seeded; `--accepts`
   decisions (each for its own customer, one 10.00 EUR plan) all spend from ONE pool that fits
   60% of them. `gunicorn -w WORKERS` serves the app; CLIENTS processes fire
   POST /v1/decisions/<id>/accept at it at once. Prints answers per second (200s and 409s),
   reservations per second, latency percentiles, and checks that exactly the fitting number
   succeeded and that the ledger verifies.
2. Verification: about `--entries` ledger entries (reservations each then committed, the rest
   released, or released whole) are bulk-written consistently, and `remedy ledger verify`'s
   work is timed.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import start_gunicorn  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.ledger.book import verify_ledger  # noqa: E402
from remedy.ledger.budgets import BudgetService  # noqa: E402
from remedy.ledger.periods import period_at  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from remedy.store.tables import (  # noqa: E402
    CustomerCounter,
    LedgerEntry,
    PoolCounter,
    Reservation,
    utcnow,
)
from tests.factories import decision_row  # noqa: E402

PLAN = "apology+gift_1x"


def create_database(server_url: str) -> tuple[str, sa.Engine, str]:
    """Create a throwaway database on the server; return its URL, an admin engine, its name."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"remedy_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, admin, name


def drop_database(admin: sa.Engine, name: str) -> None:
    """Drop the throwaway database."""
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def prepare(url: str, accepts: int) -> tuple[str, list[str], int]:
    """Migrate, seed, make the decisions and the pool; return an agent key, ids, and fits."""
    upgrade(url)
    app = create_app({"DATABASE_URL": url})
    fits = accepts * 6 // 10
    with app.app_context(), db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        token, _ = KeyService(session).create("agent", label="benchmark")
        BudgetService(session).set_pool("bench", "month", Decimal(fits * 10), "EUR", "bench")
        rows = [
            decision_row({PLAN: ("10.00", False)}, customer_id=f"c{i}", team="bench")
            for i in range(accepts)
        ]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    db.database(app).dispose()
    return token, ids, fits


def start_app(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    """Serve the app with gunicorn, wait until it answers, and warm every worker."""
    process, port = start_gunicorn("remedy:create_app()", workers, {"REMEDY_DATABASE_URL": url})
    # Warm every worker (engine build, connection) before the clock starts.
    for _ in range(workers * 4):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
    return process, port


def client(port: int, key: str, ids: list[str], barrier: Any, results: Any) -> None:
    """Fire accepts one after another; put (status, seconds) per request."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps({"plan_id": PLAN})
    answers = []
    barrier.wait()
    for decision_id in ids:
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", f"/v1/decisions/{decision_id}/accept", body, headers)
        response = connection.getresponse()
        response.read()
        answers.append((response.status, time.perf_counter() - started))
        connection.close()
    results.put(answers)


def contention(url: str, args: argparse.Namespace) -> None:
    """Print accepts per second on one pool under gunicorn with several client processes."""
    key, ids, fits = prepare(url, args.accepts)
    process, port = start_app(url, args.workers)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(args.clients + 1)
    results = context.Queue()
    clients = [
        context.Process(target=client, args=(port, key, ids[i :: args.clients], barrier, results))
        for i in range(args.clients)
    ]
    try:
        for c in clients:
            c.start()
        barrier.wait()
        started = time.perf_counter()
        answers = [a for _ in clients for a in results.get(timeout=600)]
        seconds = time.perf_counter() - started
        for c in clients:
            c.join()
    finally:
        process.terminate()
        process.wait(timeout=30)
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = sorted(s for _, s in answers)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(
        f"one pool, gunicorn -w {args.workers}, {args.clients} client processes: "
        f"{len(answers)} accepts in {seconds:.2f} s = {len(answers) / seconds:.0f} answers/s "
        f"({statuses.get(200, 0) / seconds:.0f} reservations/s); p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms; statuses {dict(sorted(statuses.items()))}"
    )
    if statuses.get(200) != fits or statuses.get(409) != len(ids) - fits:
        raise SystemExit(f"expected exactly {fits} reservations, got {statuses}")
    check(url, "after the contention run")


def check(url: str, when: str) -> None:
    """Verify the ledger and print how long it took."""
    app = create_app({"DATABASE_URL": url})
    with app.app_context(), db.database(app).unit_of_work() as session:
        report, seconds = verify_ledger(session)
    db.database(app).dispose()
    status = "verifies" if report.ok else f"FAILS ({len(report.failures)}: {report.failures[:3]})"
    print(
        f"ledger {status} {when}: {report.entries} entries, {report.reservations} reservations "
        f"in {seconds:.2f} s"
    )
    if not report.ok:
        raise SystemExit(1)


def bulk_ledger(url: str, entries: int) -> None:
    """Write `entries` consistent ledger entries (reserve, then commit or release) in bulk."""
    app = create_app({"DATABASE_URL": url})
    rng = random.Random(5)
    reservations, rows = [], []
    pools = [0, 0]
    customers: dict[str, list[int]] = {}
    with app.app_context(), db.database(app).unit_of_work() as session:
        # The pool must hold all that is committed below: a new version with a larger limit.
        pool = BudgetService(session).set_pool("bench", "month", Decimal(10**9), "EUR", "bench")
        now = utcnow() + timedelta(seconds=1)
        period = period_at("month", now).key
        caps_version = ConfigService(session).active_versions()["caps"]
        # About 2.7 entries per reservation: reserve, then commit and release the rest, or
        # release all.
        decisions = [
            decision_row({PLAN: ("10.00", False)}, customer_id=f"v{i}", team="bench")
            for i in range(int(entries / 2.7))
        ]
        session.add_all(decisions)
        session.flush()
        for n, decision in enumerate(decisions):
            amount = rng.randrange(100, 5000)
            at = now + timedelta(microseconds=n)
            rid = uuid.uuid4().hex
            committed = rng.random() < 0.7
            actual = rng.randrange(0, amount + 1) if committed else 0
            base = {
                "currency": "EUR", "pool_team": "bench", "period_key": period,
                "customer_id": decision.customer_id, "decision_id": decision.id,
                "reservation_id": rid, "contact_level": None, "actor": "bench",
                "pool_version": pool.version, "caps_version": caps_version, "contacts": 0,
            }  # fmt: skip
            rows.append({**base, "at": at, "kind": "reserve", "amount_minor": amount,
                         "reason": "accept"})  # fmt: skip
            if committed:
                rows.append({**base, "at": at, "kind": "commit", "amount_minor": actual,
                             "reason": "fulfil"})  # fmt: skip
                if amount > actual:
                    rows.append({**base, "at": at, "kind": "release",
                                 "amount_minor": amount - actual, "reason": "fulfil"})  # fmt: skip
            else:
                rows.append({**base, "at": at, "kind": "release", "amount_minor": amount,
                             "reason": "cancel"})  # fmt: skip
            reservations.append({
                "id": rid, "decision_id": decision.id, "plan_id": PLAN,
                "state": "committed" if committed else "released", "currency": "EUR",
                "pool_team": "bench", "period_key": period, "customer_id": decision.customer_id,
                "contact_level": None, "reserved_minor": 0, "committed_minor": actual,
                "requested_minor": None, "pool_version": pool.version,
                "caps_version": caps_version, "created_at": at, "expires_at": at, "updated_at": at,
            })  # fmt: skip
            pools[1] += actual
            customers[decision.customer_id] = [0, actual]
        session.execute(sa.insert(Reservation), reservations)
        session.execute(sa.insert(LedgerEntry), rows)
        counter = session.get(PoolCounter, ("bench", "EUR", period))
        if counter is None:
            counter = PoolCounter(team="bench", currency="EUR", period_key=period,
                                  reserved_minor=0, committed_minor=0)  # fmt: skip
            session.add(counter)
        counter.committed_minor += pools[1]
        session.execute(
            sa.insert(CustomerCounter),
            [
                {"customer_id": c, "currency": "EUR", "reserved_minor": r, "committed_minor": m}
                for c, (r, m) in customers.items()
            ],
        )
    db.database(app).dispose()


def main() -> None:
    """Run both measurements on a throwaway PostgreSQL database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--accepts", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    url, admin, name = create_database(args.database_url)
    try:
        contention(url, args)
        bulk_ledger(url, args.entries)
        check(url, f"with {args.entries} bulk entries added")
    finally:
        drop_database(admin, name)


if __name__ == "__main__":
    main()

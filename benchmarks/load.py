"""Load and faults: mixed traffic on gunicorn + PostgreSQL, then the same with a worker killed
and PostgreSQL restarted mid-run.

    python benchmarks/load.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                              [--workers 4] [--clients 6] [--seconds 60] [--no-faults]

A throwaway database is created, migrated and seeded (catalog, rules, caps, the bundled model, a
pool for team "load"). `gunicorn -w WORKERS` serves the app; CLIENTS processes send a mix for
SECONDS: 50% recommendations (random incidents), 20% accepts of a plan they were shown, 10%
outcomes for what they accepted, 20% reads (a decision, the budgets). It prints throughput,
p50/p99 latency per kind and status counts. The second run repeats this while the benchmark
SIGKILLs one gunicorn worker (at 1/3 of the run) and restarts PostgreSQL (at 2/3, with
`pg_ctlcluster ... restart`); afterwards `remedy ledger verify` must pass and every accept that
was answered 200 must be in the database as accepted (no accepted decision lost). Errors during
the faults (connection resets, 503s) are counted, not hidden. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.accept import check, create_database, drop_database  # noqa: E402
from benchmarks.recommend_data import random_incident  # noqa: E402
from benchmarks.server import start_gunicorn  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.ledger.budgets import BudgetService  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.services.model_registry import seed_bundled  # noqa: E402
from remedy.store.tables import Decision  # noqa: E402

MODEL_DIR = tempfile.mkdtemp(prefix="remedy-load-models-")


def prepare(url: str) -> str:
    """Migrate and seed; return an agent key."""
    from remedy.store.migrate import upgrade

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR})
    with app.app_context(), db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        seed_bundled(session, Path(MODEL_DIR) / "cache")
        budgets = BudgetService(session)
        for currency in ("EUR", "USD", "GBP"):
            budgets.set_pool("load", "month", Decimal("100000000"), currency, "load")
        token, _ = KeyService(session).create("agent", team="load", label="load test")
    db.database(app).dispose()
    return token


def start(url: str, workers: int) -> tuple[subprocess.Popen, int]:
    """Serve with gunicorn (no rate limit: one key drives the whole load) until ready."""
    env = {"REMEDY_DATABASE_URL": url, "REMEDY_RATE_LIMIT": "",
           "REMEDY_MODEL_DIR": MODEL_DIR, "REMEDY_LOG_LEVEL": "WARNING"}  # fmt: skip
    return start_gunicorn(
        "remedy:create_app()", workers, env, ready="/readyz",
        extra_args=("--graceful-timeout", "10"), quiet_stderr=True,
    )  # fmt: skip


def call(port: int, key: str, method: str, path: str, body: dict | None = None):
    """One request on a new connection; return (status, body or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {key}"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, None


def client(port: int, key: str, seconds: float, seed: int, results) -> None:  # noqa: ANN001
    """Send the traffic mix until time is up; report latencies, statuses and accepts."""
    rng = random.Random(seed)
    shown: list[tuple[str, str]] = []  # (decision id, plan id) not yet accepted
    accepted: list[str] = []
    samples: dict[str, list[float]] = {}
    statuses: Counter = Counter()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        roll = rng.random()
        if roll < 0.5 or not shown:
            kind, method, path = "recommend", "POST", "/v1/recommendations"
            body = {"incident": random_incident(rng), "limit": 3}
        elif roll < 0.7:
            decision_id, plan_id = shown.pop(rng.randrange(len(shown)))
            kind, method, path = "accept", "POST", f"/v1/decisions/{decision_id}/accept"
            body = {"plan_id": plan_id}
        elif roll < 0.8 and accepted:
            kind, method, path = "outcome", "POST", "/v1/outcomes"
            body = {
                "decision_id": rng.choice(accepted),
                "retained": rng.random() < 0.7,
                "observed_at": datetime.now(UTC).isoformat(),
                "csat": rng.randint(1, 5),
            }
        else:
            kind, method, body = "read", "GET", None
            path = (
                f"/v1/decisions/{rng.choice(accepted)}"
                if accepted and rng.random() < 0.5
                else "/v1/budgets"
            )
        started = time.perf_counter()
        try:
            status, answer = call(port, key, method, path, body)
        except OSError:
            status, answer = "connection error", None
        samples.setdefault(kind, []).append(time.perf_counter() - started)
        statuses[(kind, status)] += 1
        if kind == "recommend" and status == 201:
            plans = [p for p in answer["plans"] if not p["requires_approval"]]
            if plans:
                shown.append((answer["decision_id"], plans[0]["plan_id"]))
        if kind == "accept" and status == 200:
            accepted.append(path.split("/")[3])
    results.put((samples, dict(statuses), accepted))


def faults(process: subprocess.Popen, seconds: float) -> None:
    """SIGKILL one gunicorn worker at 1/3 of the run, restart PostgreSQL at 2/3."""
    time.sleep(seconds / 3)
    workers = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    if workers:
        os.kill(int(workers[0]), signal.SIGKILL)
        print(f"  t={seconds / 3:.0f}s: SIGKILLed gunicorn worker {workers[0]}")
    time.sleep(seconds / 3)
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    began = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
    )
    print(
        f"  t={2 * seconds / 3:.0f}s: restarted PostgreSQL {version} "
        f"({time.monotonic() - began:.1f} s)"
    )


def run(url: str, key: str, args: argparse.Namespace, with_faults: bool) -> list[str]:
    """One run; print its figures and return the decision ids whose accept was answered 200."""
    process, port = start(url, args.workers)
    results = multiprocessing.Queue()
    clients = [
        multiprocessing.Process(target=client, args=(port, key, args.seconds, i, results))
        for i in range(args.clients)
    ]
    began = time.monotonic()
    for c in clients:
        c.start()
    if with_faults:
        faults(process, args.seconds)
    collected = [results.get() for _ in clients]
    for c in clients:
        c.join()
    elapsed = time.monotonic() - began
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    samples: dict[str, list[float]] = {}
    statuses: Counter = Counter()
    accepted: list[str] = []
    for s, st, acc in collected:
        for kind, values in s.items():
            samples.setdefault(kind, []).extend(values)
        statuses.update(st)
        accepted.extend(acc)
    total = sum(len(v) for v in samples.values())
    every = sorted(x for v in samples.values() for x in v)
    print(
        f"{'faults' if with_faults else 'steady'}: {total} requests in {elapsed:.0f} s = "
        f"{total / elapsed:.0f} req/s; p50 {statistics.median(every) * 1000:.1f} ms, "
        f"p99 {every[int(len(every) * 0.99)] * 1000:.1f} ms"
    )
    for kind, values in sorted(samples.items()):
        ordered = sorted(values)
        print(
            f"  {kind:<9} n={len(values):<6} p50 {statistics.median(ordered) * 1000:7.1f} ms"
            f"  p99 {ordered[int(len(ordered) * 0.99)] * 1000:7.1f} ms"
        )
    errors = {k: v for k, v in statuses.items() if not (isinstance(k[1], int) and k[1] < 500)}
    print(f"  statuses: {dict(sorted((f'{k[0]} {k[1]}', v) for k, v in statuses.items()))}")
    print(f"  errors (5xx, connection): {sum(errors.values())}")
    return accepted


def none_lost(url: str, accepted: list[str]) -> None:
    """Check that every accept answered 200 is stored as accepted."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                sa.select(Decision.id, Decision.status).where(Decision.id.in_(accepted))
            ).all()
        )
    engine.dispose()
    lost = [
        d
        for d in accepted
        if rows.get(d) not in ("reserved", "fulfilled", "overage_pending_approval")
    ]
    print(f"accepted decisions answered 200: {len(accepted)}; lost: {len(lost)}")
    if lost:
        raise SystemExit(1)


def main() -> None:
    """Run the steady and the faulty load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--no-faults", action="store_true")
    args = parser.parse_args()
    url, admin, name = create_database(args.database_url)
    try:
        key = prepare(url)
        accepted = run(url, key, args, with_faults=False)
        check(url, "after the steady run")
        none_lost(url, accepted)
        if not args.no_faults:
            accepted = run(url, key, args, with_faults=True)
            time.sleep(2)  # PostgreSQL back up
            check(url, "after the run with faults")
            none_lost(url, accepted)
    finally:
        admin.dispose()  # its pooled connection died with the restart; reconnect to drop
        drop_database(admin, name)


if __name__ == "__main__":
    main()

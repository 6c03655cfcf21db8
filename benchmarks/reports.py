"""Benchmark the reports over a year of 100,000 decisions: how long each answer takes.

    python benchmarks/reports.py [--database-url sqlite:///... | postgresql+psycopg://...]
                                 [--decisions 100000] [--reads 5]

Seeds `--decisions` decisions (bulk inserts, as fast as the database takes them) spread over
365 days, two teams, the bundled categories and touchpoints, one ticket in five asked twice;
60% with a reservation (committed, or still open), 30% with an outcome saying when the agent
answered and fixed. Bulk inserts bypass the ORM, so it then rolls them up with
`remedy.services.rollup_rebuild.rebuild` (the `remedy reports rebuild` command; timed). Then, in
process (Flask's test client, no HTTP), it reads each report over the whole year `--reads`
times as finance (every team) and as a lead (one team) and prints the median and the slowest
read and the median CPU time of this process, in milliseconds. A SQLite database is a
temporary file unless given; a PostgreSQL database given must be empty (it is migrated).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from catalog.vocabulary import default_touchpoints, default_vocabulary  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.services.rollup_rebuild import rebuild  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from remedy.store.tables import Decision, Outcome, Reservation  # noqa: E402
from tests.factories import decision_row  # noqa: E402

START = datetime(2025, 12, 1, tzinfo=UTC)
PROMISES = {"respond_within": "PT30M", "fix_within": "PT1H"}
BATCH = 5000


def template() -> dict:
    """One decision's columns as the service stores them (a refund and a gift offered)."""
    row = decision_row(
        {"refund": ("60.00", False), "refund+gift_1x": ("120.00", False)}, promises=PROMISES
    )
    columns = {}
    for column in Decision.__table__.columns:
        value = getattr(row, column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        columns[column.key] = value
    return columns


def seed(app, decisions: int, rng: random.Random) -> None:
    """Bulk insert the decisions, reservations and outcomes."""
    base = template()
    categories = list(default_vocabulary().names)
    touchpoints = [*default_touchpoints().names, None]
    span = timedelta(days=365).total_seconds()
    table_d, table_r, table_o = (t.__table__ for t in (Decision, Reservation, Outcome))
    with db.database(app).engine.begin() as connection:
        rows_d, rows_r, rows_o = [], [], []
        for n in range(decisions):
            at = START + timedelta(seconds=span * n / decisions)
            ticket = n if rng.random() > 0.2 or n < 2 else n - 2  # one in five asked again
            customer = f"c{rng.randrange(decisions // 3)}"
            team = "emea" if n % 2 else "apac"
            incident = dict(
                base["incident"],
                customer_id=customer,
                team=team,
                category=rng.choice(categories),
                touchpoint=rng.choice(touchpoints),
                external_id=f"T-{ticket}",
                customer_value=f"{rng.randrange(100, 5000)}.00",
                reported_at=at.isoformat(),
            )
            decision_id = f"d{n:031d}"
            rows_d.append(
                dict(
                    base,
                    id=decision_id,
                    created_at=at,
                    customer_id=customer,
                    external_id=incident["external_id"],
                    team=team,
                    fault_type=rng.choice(("company", "partner", "customer")),
                    incident=incident,
                    category=incident["category"],
                    touchpoint=incident["touchpoint"],
                    status="fulfilled",
                    accepted_plan_id="refund",
                )
            )
            if rng.random() < 0.6:
                amount = rng.randrange(1000, 30000)
                open_ = rng.random() < 0.2
                rows_r.append(
                    {
                        "id": f"r{n:031d}",
                        "decision_id": decision_id,
                        "plan_id": "refund",
                        "state": "open" if open_ else "committed",
                        "currency": "EUR",
                        "pool_team": team,
                        "period_key": at.strftime("%Y-%m"),
                        "customer_id": customer,
                        "contact_level": None,
                        "reserved_minor": amount if open_ else 0,
                        "committed_minor": 0 if open_ else amount,
                        "fix_reserved_minor": amount if open_ else 0,
                        "fix_committed_minor": 0 if open_ else amount,
                        "requested_minor": None,
                        "pool_version": 1,
                        "caps_version": 1,
                        "created_at": at,
                        "expires_at": at + timedelta(days=2),
                        "updated_at": at,
                    }
                )
                if rng.random() < 0.5:
                    rows_o.append(
                        {
                            "decision_id": decision_id,
                            "plan_id": "refund",
                            "retained": rng.random() < 0.8,
                            "observed_at": at + timedelta(days=1),
                            "responded_at": at + timedelta(minutes=rng.randrange(5, 60)),
                            "fixed_at": at + timedelta(minutes=rng.randrange(20, 120)),
                            "recorded_at": at + timedelta(days=1),
                            "recorded_by": "bench",
                        }
                    )
            if len(rows_d) >= BATCH:
                for table, rows in ((table_d, rows_d), (table_r, rows_r), (table_o, rows_o)):
                    if rows:
                        connection.execute(table.insert(), rows)
                    rows.clear()
        for table, rows in ((table_d, rows_d), (table_r, rows_r), (table_o, rows_o)):
            if rows:
                connection.execute(table.insert(), rows)


def timed(call, reads: int) -> tuple[float, float, float]:
    """Call `call` `reads` times; return the median and the slowest wall time and the median
    CPU time of this process (what the machine's other load does not inflate; a database
    server's own work is not in it), in milliseconds."""
    samples, cpu = [], []
    for _ in range(reads):
        started, used = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return statistics.median(samples), max(samples), statistics.median(cpu)


def main() -> None:
    """Seed, roll up, read every report, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--decisions", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/reports.sqlite"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "TESTING": True, "RATE_LIMIT": "", "LOG_LEVEL": "ERROR"})
    with db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        keys = KeyService(session)
        tokens = {"finance": keys.create("finance", None, "bench")[0]}
        tokens["lead"] = keys.create("lead", "emea", "bench")[0]
    print(f"load average at start: {os.getloadavg()[0]:.2f}; database: {url.split(':')[0]}")
    started = time.perf_counter()
    seed(app, args.decisions, random.Random(7))
    print(f"seeded {args.decisions} decisions in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with db.database(app).unit_of_work() as session:
        tickets = rebuild(session)
    print(f"rolled up {tickets} tickets in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    year = {"from": "2025-12-01", "to": "2026-12-01"}
    reports = {
        "diagnose": {},
        "audit": {},
        "spend?group_by=team": {"group_by": "team"},
        "spend?group_by=category": {"group_by": "category"},
        "promises": {},
    }
    print(f"{'report':<26} {'as':<8} {'median ms':>10} {'max ms':>10} {'CPU ms':>8} {'rows':>6}")
    for name, extra in reports.items():
        path = f"/v1/reports/{name.split('?')[0]}"
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            answer = client.get(path, query_string={**year, **extra}, headers=headers)
            assert answer.status_code == 200, answer.json

            def read(path=path, extra=extra, headers=headers) -> None:
                client.get(path, query_string={**year, **extra}, headers=headers)

            median, slowest, cpu = timed(read, args.reads)
            rows = len(answer.json["rows"])
            print(f"{name:<26} {role:<8} {median:>10.1f} {slowest:>10.1f} {cpu:>8.1f} {rows:>6}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Benchmark a what-if replay: decisions per second through the real WhatIfService.

    python benchmarks/whatif.py [--decisions 10000] [--workers 1] [--sweep N] [--database-url URL]

Builds N logged decisions in bulk from training.simulator.random_incident (only what a replay
reads: the incident and when it was decided, spread over one month), promotes the bundled model,
then times a replay of the month under current vs proposed settings (a stricter default loss
multiple), i.e. 2 x N decisions through rules, planner, ranker (one model call per decision) and
caps, plus pool spending; `--sweep N` adds N points of a loss-multiple sweep (1x to 6x). Uses a
throwaway SQLite file unless --database-url is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from remedy import create_app  # noqa: E402
from remedy.decisions.ranker import ValueSettings  # noqa: E402
from remedy.decisions.record import incident_to_json  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.ledger.budgets import BudgetService  # noqa: E402
from remedy.services import app_services  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.model_registry import seed_bundled  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from remedy.store.tables import Decision  # noqa: E402
from remedy.whatif.service import WhatIfService  # noqa: E402
from tests.factories import default_document  # noqa: E402
from training.simulator import FX_PER_USD, random_incident  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)


def seed(app, decisions: int) -> None:  # type: ignore[no-untyped-def]
    """Load configs, the bundled model, pools, and `decisions` logged decisions in bulk."""
    with db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        seed_bundled(session, Path(app.config["MODEL_DIR"]) / "cache")
    log_decisions(app, decisions)


def log_decisions(app, decisions: int) -> None:  # type: ignore[no-untyped-def]
    """Add monthly `default` pools and `decisions` logged decisions (October 2026) in bulk.

    Only what a replay reads; benchmarks/recommend.py uses it to give a what-if job work.
    """
    rng = np.random.default_rng(0)
    step = (END - START) / decisions
    with db.database(app).unit_of_work() as session:
        for currency, rate in FX_PER_USD.items():
            limit = (Decimal(200000) * Decimal(str(rate))).quantize(Decimal(1))
            BudgetService(session).set_pool("default", "month", limit, currency, "bench")
    rows = []
    for index in range(decisions):
        incident = dataclasses.replace(random_incident(rng, index), team=f"t{index % 4}")
        rows.append(
            {
                "created_at": START + step * index,
                "customer_id": incident.customer_id,
                "team": incident.team,
                "currency": incident.currency,
                "severity": incident.severity,
                "fault_type": str(incident.fault_type),
                "incident": incident_to_json(incident),
                "cap": {},
                "fired_rules": [],
                "excluded_items": {},
                "notes": [],
                "priced_items": {},
                "candidates": [],
                "shown": [],
                "presentation": {},
                "catalog_version": 1,
                "rules_version": 1,
                "caps_version": 1,
                "model_version": "bench",
                "requested_by": "bench",
            }
        )
    with db.database(app).unit_of_work() as session:
        for offset in range(0, len(rows), 5000):
            session.execute(Decision.__table__.insert(), rows[offset : offset + 5000])


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have exited (forked deciders)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    """Seed, replay, print decisions/second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=10000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1, help="forked deciding processes")
    parser.add_argument(
        "--sweep", type=int, default=0, help="also sweep the default loss multiple over N points"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="remedy-bench-whatif-"))
    url = args.database_url or f"sqlite:///{workdir / 'whatif.sqlite'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": str(workdir / "models")})
    started = time.perf_counter()
    seed(app, args.decisions)
    print(f"seeded {args.decisions} decisions in {time.perf_counter() - started:.1f} s")
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1.5"
    with app.app_context():
        session = db.database(app).sessions()
        scorer = app_services.scorer(app)(session)
        values = ValueSettings(app.config["HORIZON_YEARS"], app.config["REFERRAL_SHARE"])
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        sweep = None
        if args.sweep:
            points = [str(1 + 5 * k / max(1, args.sweep - 1))[:6] for k in range(args.sweep)]
            sweep = {"path": "incident_caps.default.loss_multiple", "values": points}
        result = WhatIfService(session, scorer, values, args.workers).simulate(
            START, END, {"caps": caps}, sweep=sweep
        )
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_started
        session.close()
    incidents = result["current"]["decisions"]
    replayed = incidents * (2 + args.sweep)
    what = "current + proposed" + (f" + {args.sweep} sweep points" if args.sweep else "")
    print(f"model {result['model']}: replayed {replayed} decisions ({what})")
    print(
        f"{elapsed:.1f} s: {incidents / elapsed:.0f} incidents/second, "
        f"{replayed / elapsed:.0f} decisions/second ({args.workers} worker(s))"
    )
    # CPU seconds (this process and its forked deciders) do not depend on what else runs on
    # the machine; on a quiet 2-core machine the wall clock is about CPU / workers.
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"CPU {cpu:.1f} s ({cpu / incidents * 1000:.2f} ms per incident); load average {load}")
    print(f"current spend {result['current']['spend']}")
    print(f"proposed spend {result['proposed']['spend']}")
    db.database(app).dispose()


if __name__ == "__main__":
    main()

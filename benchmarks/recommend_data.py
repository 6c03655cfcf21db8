"""What the recommendation benchmarks run on: plausible incidents, a seeded database, and a
throwaway PostgreSQL database.

benchmarks/recommend.py measures with them; benchmarks/calls.py and benchmarks/load.py reuse
them. MODEL_DIR is one temporary folder per process, made when this module is first imported,
so every app a run creates reads the same model cache.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from benchmarks.whatif import log_decisions
from remedy import create_app
from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.services.model_registry import seed_bundled
from remedy.store.migrate import upgrade

MODEL_DIR = tempfile.mkdtemp(prefix="remedy-bench-models-")
CATEGORIES = ["delivery", "billing", "product_defect", "outage", "service_rudeness"]


def random_incident(rng: random.Random) -> dict:
    """A plausible incident body."""
    return {
        "customer_id": f"c{rng.randrange(100000)}",
        "severity": rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]),
        "fault_type": rng.choice(["company", "company", "partner", "customer", "unknown"]),
        "customer_value": f"{rng.randrange(100, 20000)}.00",
        "loss_amount": f"{rng.randrange(5, 400)}.{rng.randrange(100):02d}",
        "currency": rng.choice(["EUR", "USD", "GBP"]),
        "category": rng.choice(CATEGORIES),
        "channel": rng.choice(["email", "chat", "phone"]),
        "locale": rng.choice(["en-GB", "fr-FR", "en-US"]),
        "churn_threat": rng.random() < 0.15,
    }


def prepare(url: str, job_decisions: int) -> tuple[str, str]:
    """Migrate and seed the database (and a month of logged decisions for a what-if job);
    return an agent key and a finance key."""
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR})
    with app.app_context(), db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        # Day one in production: the bundled model ranks plans, as after `remedy init`.
        seed_bundled(session, Path(app.config["MODEL_DIR"]) / "cache")
        token, _ = KeyService(session).create("agent", label="benchmark")
        finance, _ = KeyService(session).create("finance", label="benchmark")
    if job_decisions:
        with app.app_context():
            log_decisions(app, job_decisions)
    db.database(app).dispose()
    return token, finance


@contextlib.contextmanager
def throwaway_postgres(server_url: str) -> Iterator[str]:
    """Create a database of its own on the server for this run; drop it afterwards."""
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"remedy_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

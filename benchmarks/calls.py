"""Python function calls per request, in process: a figure the machine's load does not move.

    python benchmarks/calls.py [sqlite] [postgresql+psycopg://...]

For each database named (`sqlite`: a throwaway file; a PostgreSQL server URL: a throwaway
database on it, dropped after), counts with cProfile the Python function calls of 200 pipeline
decisions (`engine.decide`), 200 `POST /v1/recommendations` and 500 `GET /v1/whoami` through
Flask's test client (rate limiting on, as served), and prints calls per request with the POST
as a multiple of the pipeline, and the profiled CPU time beside them. On a shared machine
wall-clock and even CPU time move with other work; the call count is the same on a quiet
machine, so two commits compare by it (issue 26, benchmarks/README.md).
"""

from __future__ import annotations

import cProfile
import pstats
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import recommend_data  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services import app_services  # noqa: E402
from tests.factories import make_incident  # noqa: E402


def calls(run: Callable[[int], object], n: int) -> tuple[float, float]:
    """Calls per run and profiled CPU milliseconds per run, over `n` runs."""
    profile = cProfile.Profile()
    started = time.process_time()
    profile.enable()
    for i in range(n):
        run(i)
    profile.disable()
    cpu = time.process_time() - started
    total = sum(entry[1] for entry in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]
    return total / n, cpu / n * 1000


def measure(name: str, url: str) -> None:
    """Print one database's line."""
    key, _ = recommend_data.prepare(url, 0)
    app = create_app(
        {
            "DATABASE_URL": url,
            "MODEL_DIR": recommend_data.MODEL_DIR,
            "RATE_LIMIT": "10000000/minute",
            "LOG_LEVEL": "WARNING",
        }
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random(7)
    bodies = [recommend_data.random_incident(rng) for _ in range(200)]
    for body in bodies[:10]:  # warm up: the first request loads the engine and the model
        client.post("/v1/recommendations", json={"incident": body}, headers=headers)
    with app.app_context():
        session = db.database(app).sessions()
        engine = app_services.engines(app).engine(session)
        session.close()
    incidents = [
        make_incident(**{k: v for k, v in b.items() if k != "customer_id"}, customer_id="x")
        for b in bodies
    ]
    pipeline = calls(lambda i: engine.decide(incidents[i]), len(incidents))
    post = calls(
        lambda i: client.post("/v1/recommendations", json={"incident": bodies[i]}, headers=headers),
        len(bodies),
    )
    whoami = calls(lambda _: client.get("/v1/whoami", headers=headers), 500)
    print(
        f"{name}: calls per pipeline decision {pipeline[0]:.0f}, per POST {post[0]:.0f} "
        f"({post[0] / pipeline[0]:.2f}x), per whoami {whoami[0]:.0f}; profiled CPU ms "
        f"{pipeline[1]:.2f} / {post[1]:.2f} ({post[1] / pipeline[1]:.2f}x) / {whoami[1]:.2f}"
    )
    db.database(app).dispose()


def main() -> None:
    """Measure each database named on the command line (default: SQLite)."""
    for target in sys.argv[1:] or ["sqlite"]:
        if target.startswith("postgresql"):
            with recommend_data.throwaway_postgres(target) as url:
                measure("PostgreSQL", url)
        else:
            measure("SQLite", f"sqlite:///{tempfile.mkdtemp(prefix='remedy-calls-')}/b.sqlite")


if __name__ == "__main__":
    main()

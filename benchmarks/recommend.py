"""Benchmark one recommendation: in-process latency, and HTTP throughput against a bare endpoint.

    python benchmarks/recommend.py [--seconds 10] [--workers 2] [--connections 16]
                                   [--database-url URL]

In process: p50/p99 of the decision pipeline alone (rules, planner, ranker, caps) and of a
whole POST /v1/recommendations through Flask's test client (validation, pipeline, one insert,
commit). Over HTTP: requests/s of POST /v1/recommendations and of a bare Flask JSON endpoint, each
on `gunicorn -w WORKERS`, loaded by wrk (-t2 -cCONNECTIONS) when it is installed, else by a
Python load generator; prints the ratio. Uses a throwaway SQLite file unless --database-url is
given (a PostgreSQL URL is migrated and seeded in place).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import start_gunicorn  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.services.model_registry import seed_bundled  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from tests.factories import make_incident  # noqa: E402

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


def percentiles(samples: list[float]) -> tuple[float, float]:
    """Return p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def prepare(url: str) -> str:
    """Migrate and seed the database; return an agent key."""
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR})
    with app.app_context(), db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        # Day one in production: the bundled model ranks plans, as after `remedy init`.
        seed_bundled(session, Path(app.config["MODEL_DIR"]) / "cache")
        token, _ = KeyService(session).create("agent", label="benchmark")
    db.database(app).dispose()
    return token


def in_process(url: str, key: str, n: int) -> None:
    """Print p50/p99 of the pipeline alone and of a whole POST through the test client."""
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR, "RATE_LIMIT": ""})
    rng = random.Random(7)
    bodies = [random_incident(rng) for _ in range(n)]
    with app.app_context():
        session = db.database(app).sessions()
        engine = app.extensions["remedy.engines"].engine(session)
        session.close()
        print(f"model in use: {engine.ranker.scorer.version}")
        samples, sizes = [], []
        for body in bodies:
            incident = make_incident(
                **{k: v for k, v in body.items() if k not in ("customer_id",)}, customer_id="x"
            )
            start = time.perf_counter()
            result = engine.decide(incident)
            samples.append(time.perf_counter() - start)
            sizes.append(len(result.candidates))
    p50, p99 = percentiles(samples)
    print(
        f"pipeline only      n={n:<6} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
        f"(candidates per incident: mean {statistics.mean(sizes):.0f}, max {max(sizes)})"
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    samples = []
    for body in bodies:
        start = time.perf_counter()
        response = client.post("/v1/recommendations", json={"incident": body}, headers=headers)
        samples.append(time.perf_counter() - start)
        if response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}: {response.json}")
    p50, p99 = percentiles(samples)
    print(f"POST, in process   n={n:<6} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
    db.database(app).dispose()


def start_app(app_spec: str, workers: int, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """Start gunicorn once the port accepts, then let every worker finish importing."""
    process, port = start_gunicorn(app_spec, workers, env, ready=None)
    time.sleep(1.5)
    return process, port


def load_wrk(
    url: str, body: dict | None, key: str, seconds: int, connections: int
) -> tuple[float, str]:
    """Drive `url` with wrk (POST `body`, or GET when None); return requests/s and p99 text."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(
                'wrk.method = "POST"\n'
                f"wrk.body = [[{json.dumps(body)}]]\n"
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
        script.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} non-2xx responses from {url}")
    return rate, p99


def load_python(
    url: str, body: dict | None, key: str, seconds: int, connections: int
) -> tuple[float, str]:
    """Fallback load generator: threads posting (or, without a body, getting) in a loop."""
    data = json.dumps(body).encode() if body is not None else None
    done, latencies = [], []
    stop = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop:
            request = urllib.request.Request(
                url,
                data=data,
                method="POST" if data is not None else "GET",
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:  # noqa: S310 - local server
                response.read()
            latencies.append(time.perf_counter() - start)
            done.append(1)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done) / seconds, f"{percentiles(latencies)[1]:.2f}ms"


def over_http(url: str, key: str, args: argparse.Namespace) -> None:
    """Print requests/s of the API and of the bare endpoint, and their ratio."""
    load = load_wrk if shutil.which("wrk") else load_python
    body = {"incident": random_incident(random.Random(3))}
    body["incident"].update(severity=3, fault_type="company")
    # A limit no benchmark reaches: the limiter's own cost is measured, its 429s are not.
    env = {
        "REMEDY_DATABASE_URL": url,
        "REMEDY_RATE_LIMIT": "10000000/minute",
        "REMEDY_MODEL_DIR": MODEL_DIR,
    }
    results = {}
    # GET /v1/whoami is the floor of every authenticated route: the key's lookup and nothing
    # else, through the same middleware (request id, rate limit, metrics, access log).
    for name, spec, path, payload in (
        ("bare Flask JSON endpoint", "benchmarks.bare_app:app", "/echo", body),
        ("GET /v1/whoami (auth only)", "remedy:create_app()", "/v1/whoami", None),
        ("POST /v1/recommendations", "remedy:create_app()", "/v1/recommendations", body),
    ):
        process, port = start_app(spec, args.workers, env)
        try:
            rate, p99 = load(
                f"http://127.0.0.1:{port}{path}", payload, key, args.seconds, args.connections
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
        results[name] = rate
        print(
            f"{name:<28} gunicorn -w {args.workers}: {rate:8.0f} req/s  p99 {p99}  "
            f"({load.__name__.removeprefix('load_')}, {args.connections} connections, "
            f"{args.seconds}s)"
        )
    bare = results["bare Flask JSON endpoint"]
    print(f"ratio recommendations / bare: {results['POST /v1/recommendations'] / bare:.1%}")
    print(f"ratio whoami (auth only) / bare: {results['GET /v1/whoami (auth only)'] / bare:.1%}")


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="in-process samples")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="remedy-bench-")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite"
    try:
        key = prepare(url)
        in_process(url, key, args.requests)
        over_http(url, key, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

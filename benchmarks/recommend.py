"""Benchmark a recommendation end to end: in process, and over HTTP against the bare floor.

    python benchmarks/recommend.py [--seconds 10] [--connections 16] [--workers N] [--threads N]
                                   [--postgres-url URL] [--sync]

One run prints one table per database (a throwaway SQLite file; and, when --postgres-url or
REMEDY_TEST_DATABASE_URL names a PostgreSQL server, a throwaway database created on it and
dropped after): in process, p50/p99/mean of the decision pipeline alone and of a whole
POST /v1/recommendations through Flask's test client, and the ceiling `workers / mean POST
latency`; over HTTP, loaded by wrk (-t2 -cCONNECTIONS, `apt-get install -y wrk`; a Python load
generator when wrk is missing), requests/s and p50/p99 of a bare Flask JSON endpoint, of
`GET /v1/whoami` (authentication only) and of POST /v1/recommendations over 64 varied incidents,
each served by gunicorn with `remedy serve`'s options for that database (--sync: the sync
workers used before, for comparison). With --with-job, POST /v1/recommendations is loaded a
second time while `remedy worker` (its default niceness, as `remedy serve` starts it) replays
--job-decisions logged decisions under two settings (a what-if job queued through the API), to
show what a running job does to the agents' tail. The last lines check the targets of issue 26
(in process by wall clock and by CPU time).
"""

from __future__ import annotations

import argparse
import contextlib
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
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.server import start_gunicorn  # noqa: E402
from benchmarks.whatif import END, START, log_decisions  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.cli.serve import gunicorn_options, serving_defaults  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services import app_services  # noqa: E402
from remedy.services.configs import ConfigService  # noqa: E402
from remedy.services.keys import KeyService  # noqa: E402
from remedy.services.model_registry import seed_bundled  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from tests.factories import default_document, make_incident  # noqa: E402

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


def in_process(url: str, key: str, n: int) -> dict[str, float]:
    """Measure the pipeline alone and whole POSTs through the test client; return the figures.

    Each incident is decided by the pipeline alone, then POSTed, in turn: both sides of the
    ratio see the same load at the same moment (on a shared machine the load moves within
    seconds)."""
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR, "RATE_LIMIT": ""})
    rng = random.Random(7)
    bodies = [random_incident(rng) for _ in range(n)]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    with app.app_context():
        session = db.database(app).sessions()
        engine = app_services.engines(app).engine(session)
        session.close()
    for body in bodies[:10]:  # warm up: the first request of an app loads the engine and model
        client.post("/v1/recommendations", json={"incident": body}, headers=headers)
    pipeline, pipeline_cpu, post, post_cpu, sizes = [], [], [], [], []
    for body in bodies:
        incident = make_incident(
            **{k: v for k, v in body.items() if k not in ("customer_id",)}, customer_id="x"
        )
        start, start_cpu = time.perf_counter(), time.process_time()
        result = engine.decide(incident)
        pipeline_cpu.append(time.process_time() - start_cpu)
        pipeline.append(time.perf_counter() - start)
        sizes.append(len(result.candidates))
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.post("/v1/recommendations", json={"incident": body}, headers=headers)
        post_cpu.append(time.process_time() - start_cpu)
        post.append(time.perf_counter() - start)
        if response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}: {response.json}")
    figures = {"model": engine.ranker.scorer.version, "candidates": statistics.mean(sizes)}
    figures["pipeline"], figures["pipeline_cpu"] = percentiles(pipeline), percentiles(pipeline_cpu)
    figures["post"], figures["post_cpu"] = percentiles(post), percentiles(post_cpu)
    db.database(app).dispose()
    return figures


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Return p50, p99 and the mean, in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        statistics.fmean(ordered) * 1000,
    )


def wrk_ms(text: str) -> float:
    """wrk's latency text ('812.00us', '3.21ms', '1.02s') in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load_wrk(
    url: str, bodies: list[dict] | None, key: str, seconds: int, connections: int
) -> tuple[float, float, float, int]:
    """Drive `url` with wrk (POST the bodies in turn, or GET when None); rate, p50, p99 (ms)
    and socket errors (wrk gives up on a request after 2 s: a timeout, not in the latencies)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        if bodies is not None:
            script.write('wrk.headers["Content-Type"] = "application/json"\nbodies = {\n')
            script.writelines(f"  [[{json.dumps(body)}]],\n" for body in bodies)
            script.write(
                "}\ni = 0\nrequest = function()\n  i = i % #bodies + 1\n"
                '  return wrk.format("POST", nil, nil, bodies[i])\nend\n'
            )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} non-2xx responses from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p99 = wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(n) for n in socket.groups()) if socket else 0
    return rate, p50, p99, errors


def load_python(
    url: str, bodies: list[dict] | None, key: str, seconds: int, connections: int
) -> tuple[float, float, float, int]:
    """Fallback load generator: threads posting (or, without bodies, getting) in a loop."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        count = offset
        while time.monotonic() < stop:
            data = json.dumps(bodies[count % len(bodies)]).encode() if bodies else None
            count += 1
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

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p50, p99, _ = percentiles(latencies)
    return len(latencies) / seconds, p50, p99, 0


def _call(port: int, method: str, path: str, key: str, body: dict | None = None) -> dict:
    """One JSON request to the local server; return its JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - local server
        return json.loads(response.read())


@contextlib.contextmanager
def running_job(port: int, finance_key: str, env: dict[str, str]) -> Iterator[dict]:
    """Queue a what-if replay of the logged month and keep `remedy worker` running it.

    Yields a dict that, after the block, holds how far the job got (`done`, `total`, `status`):
    a job that finished before the load did would understate its effect.
    """
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1.5"
    job = _call(
        port,
        "POST",
        "/v1/budgets/simulate",
        finance_key,
        {"from": START.isoformat(), "to": END.isoformat(), "caps": caps},
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    state: dict = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the replay has started deciding
            found = _call(port, "GET", f"/v1/jobs/{job['id']}", finance_key)
            if found["status"] == "running" and (found.get("progress") or {}).get("done"):
                break
            time.sleep(0.5)
        yield state
        found = _call(port, "GET", f"/v1/jobs/{job['id']}", finance_key)
        state.update(status=found["status"], **(found.get("progress") or {}))
    finally:
        worker.terminate()
        worker.wait(timeout=60)


def over_http(url: str, key: str, args: argparse.Namespace) -> dict[str, tuple]:
    """Load the bare endpoint, whoami and recommendations; return rate, p50, p99 of each."""
    load = load_wrk if shutil.which("wrk") else load_python
    rng = random.Random(3)
    bodies = [{"incident": random_incident(rng)} for _ in range(64)]
    workers, threads = serving(url, args)
    options = (
        ["--worker-class", "sync", "--workers", str(workers)]
        if args.sync
        else gunicorn_options(workers, threads)
    )
    # A limit no benchmark reaches: the limiter's own cost is measured, its 429s are not.
    env = {
        "REMEDY_DATABASE_URL": url,
        "REMEDY_RATE_LIMIT": "10000000/minute",
        "REMEDY_MODEL_DIR": MODEL_DIR,
        "REMEDY_DATABASE_POOL_SIZE": str(threads),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    results = {}
    # GET /v1/whoami is the floor of every authenticated route: the key's lookup and nothing
    # else, through the same middleware (request id, rate limit, metrics, access log).
    for name, spec, path, payload in (
        ("bare", "benchmarks.bare_app:app", "/echo", bodies),
        ("whoami", "remedy:create_app()", "/v1/whoami", None),
        ("recommend", "remedy:create_app()", "/v1/recommendations", bodies),
    ):
        # Wait until a worker answers (a busy machine takes seconds to import the app).
        ready = None if spec.startswith("benchmarks") else "/healthz"
        process, port = start_gunicorn(spec, workers, env, ready=ready, extra_args=options)
        try:
            # Warm up (the first recommendation of each worker loads the model), then measure.
            load(f"http://127.0.0.1:{port}{path}", payload, key, 3, args.connections)
            results[name] = load(
                f"http://127.0.0.1:{port}{path}", payload, key, args.seconds, args.connections
            )
            if name == "recommend" and args.with_job:
                with running_job(port, args.finance_key, env) as job:
                    results["recommend_job"] = load(
                        f"http://127.0.0.1:{port}{path}",
                        payload,
                        key,
                        args.seconds,
                        args.connections,
                    )
                results["job"] = job
        finally:
            process.terminate()
            process.wait(timeout=30)
    results["load"] = load.__name__.removeprefix("load_")
    return results


def serving(url: str, args: argparse.Namespace) -> tuple[int, int]:
    """Workers and threads: given, else `remedy serve`'s defaults for this database."""
    defaults = serving_defaults(url)
    return args.workers or defaults.workers, args.threads or defaults.threads


def load_average() -> str:
    """The 1-minute load average now."""
    return f"{os.getloadavg()[0]:.2f}"


def in_process_table(figures: dict, n: int) -> None:
    """The in-process figures: wall clock, and CPU time of this process (less sensitive to
    other work on the machine; on PostgreSQL it leaves out the server's own time)."""
    print("| what | p50 ms | p99 ms | mean ms | CPU p50 ms | CPU mean ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, key_ in (("pipeline only", "pipeline"), ("POST, in process", "post")):
        (p50, p99, m), (c50, _, cm) = figures[key_], figures[key_ + "_cpu"]
        print(f"| {label} (n={n}) | {p50:.2f} | {p99:.2f} | {m:.2f} | {c50:.2f} | {cm:.2f} |")


def ratios(name: str, figures: dict) -> None:
    """POST against the pipeline, by wall clock and by CPU time (issue 26's targets)."""
    wall = figures["post"][0] / figures["pipeline"][0]
    cpu = figures["post_cpu"][0] / figures["pipeline_cpu"][0]
    target = "2x" if name == "SQLite" else "2.5x"
    print(
        f"\n{name}: POST in process p50 = {wall:.2f}x the pipeline's p50 by wall clock, "
        f"{cpu:.2f}x by CPU time (issue 26: <= {target})"
    )


def report(name: str, url: str, args: argparse.Namespace) -> None:
    """Measure one database and print its table."""
    before = load_average()
    key, args.finance_key = prepare(url, args.job_decisions if args.with_job else 0)
    figures = in_process(url, key, args.requests)
    if args.in_process_only:
        after = load_average()
        print(
            f"\n## {name}: in process; model {figures['model']}, "
            f"{figures['candidates']:.0f} candidates on average; load average {before} -> {after}\n"
        )
        in_process_table(figures, args.requests)
        ratios(name, figures)
        return
    http = over_http(url, key, args)
    workers, threads = serving(url, args)
    after = load_average()
    mean = figures["post"][2]
    ceiling = workers / (mean / 1000)
    model = "sync" if args.sync else f"gthread, {threads} threads"
    print(
        f"\n## {name}: gunicorn -w {workers} ({model}), {http['load']} -t2 "
        f"-c{args.connections} {args.seconds}s; model {figures['model']}, "
        f"{figures['candidates']:.0f} candidates on average; load average {before} -> {after}\n"
    )
    in_process_table(figures, args.requests)
    print(f"\nceiling: {workers} workers / mean POST = {ceiling:.0f} req/s\n")
    print("| what | req/s | p50 ms | p99 ms | socket errors, timeouts |")
    print("|---|---:|---:|---:|---:|")
    for label, key_ in (
        ("bare Flask JSON endpoint", "bare"),
        ("GET /v1/whoami (auth only)", "whoami"),
        ("POST /v1/recommendations", "recommend"),
    ):
        rate, p50, p99, errors = http[key_]
        print(f"| {label} | {rate:.0f} | {p50:.2f} | {p99:.2f} | {errors} |")
    if "recommend_job" in http:
        rate, p50, p99, errors = http["recommend_job"]
        print(
            f"| POST /v1/recommendations, a what-if job running | {rate:.0f} | {p50:.2f} | "
            f"{p99:.2f} | {errors} |"
        )
    bare, who, rec = http["bare"], http["whoami"], http["recommend"]
    ratios(name, figures)
    print(
        f"recommendations at {args.connections} connections: {rec[0] / ceiling:.0%} of the "
        f"ceiling, p99 {rec[2]:.1f} ms (issue 26: <= 25 ms at 4 connections on SQLite)"
    )
    print(f"whoami: {who[0] / bare[0]:.0%} of bare (issue 26: >= 50%), p99 {who[2]:.1f} ms")
    if "recommend_job" in http:
        job, busy = http["job"], http["recommend_job"]
        print(
            f"with a what-if job running: p99 {busy[2]:.1f} ms against {rec[2]:.1f} "
            f"({busy[2] / rec[2] - 1:+.0%}, target <= +20%), {busy[0]:.0f} req/s; the job "
            f"was {job.get('status')} at {job.get('done')} of {job.get('total')} steps"
        )


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


def main() -> None:
    """Measure SQLite, then PostgreSQL when a server is named."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, help="default: remedy serve's for the database")
    parser.add_argument("--threads", type=int, help="default: remedy serve's for the database")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000, help="in-process samples")
    parser.add_argument("--postgres-url", default=os.environ.get("REMEDY_TEST_DATABASE_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--sync", action="store_true", help="gunicorn sync workers (before)")
    parser.add_argument(
        "--in-process-only", action="store_true", help="the in-process figures only (no HTTP)"
    )
    parser.add_argument(
        "--with-job", action="store_true", help="load recommendations again during a what-if job"
    )
    parser.add_argument("--job-decisions", type=int, default=20000, help="the job's logged month")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="remedy-bench-")
    try:
        report("SQLite", f"sqlite:///{workdir}/bench.sqlite", args)
        if args.postgres_url and not args.sqlite_only:
            with throwaway_postgres(args.postgres_url) as url:
                report("PostgreSQL", url, args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

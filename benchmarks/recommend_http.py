"""benchmarks/recommend.py over HTTP: the bare floor, `GET /v1/whoami` and
`POST /v1/recommendations`, each under gunicorn with `remedy serve`'s options, and (--with-job)
recommendations again while `remedy worker` runs a what-if job."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from benchmarks.http_load import load_python, load_wrk
from benchmarks.recommend_data import MODEL_DIR, random_incident
from benchmarks.server import ROOT, start_gunicorn
from benchmarks.whatif import END, START
from remedy.cli.serve import gunicorn_options, serving_defaults
from tests.factories import default_document


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

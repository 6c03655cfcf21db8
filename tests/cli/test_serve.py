"""`remedy serve`: it answers a recommendation (and a long request line with 414), runs a replay in
its job worker and stops cleanly; its defaults (gthread workers with keep-alive, threads and
pool sized per database); its processes never outlive it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from remedy.cli.front import nginx_binary
from remedy.cli.serve import KEEP_ALIVE_SECONDS, gunicorn_options, serving_defaults
from tests.cli.driving import run, server_log, start_serve, wait_for, wait_until


def option(arguments: list[str], name: str) -> str:
    """The value given to `name` on a command line."""
    return arguments[arguments.index(name) + 1]


def children(pid: int) -> dict[int, list[str]]:
    """The child processes of `pid` and their command lines."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
        found[int(child)] = cmdline
    return found


def child_running(pid: int, word: str) -> int:
    """The child of `pid` with `word` as one of its command line's arguments."""
    (match,) = [c for c, cmdline in children(pid).items() if word in cmdline]
    return match


def test_sqlite_gets_two_workers_of_four_threads_postgresql_one_worker_per_core_of_eight():
    sqlite = serving_defaults("sqlite:///x.sqlite", cpus=8)
    assert (sqlite.workers, sqlite.threads, sqlite.pool_size) == (2, 4, 4)
    postgres = serving_defaults("postgresql+psycopg://u@h/db", cpus=8)
    assert (postgres.workers, postgres.threads, postgres.pool_size) == (8, 8, 8)
    assert serving_defaults("postgresql+psycopg://u@h/db", cpus=1).workers == 2


def test_gunicorn_runs_threaded_workers_that_keep_connections_alive():
    arguments = gunicorn_options(workers=3, threads=5)
    assert option(arguments, "--worker-class") == "gthread"
    assert option(arguments, "--workers") == "3" and option(arguments, "--threads") == "5"
    assert option(arguments, "--keep-alive") == str(KEEP_ALIVE_SECONDS) == "75"
    assert option(arguments, "--timeout") == "30"  # no request runs a replay


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_remedy_serve_starts_gunicorn_with_the_defaults_for_its_database(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
):
    url = (
        f"sqlite:///{tmp_path / 'serve.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    expected = serving_defaults(url)
    env = {"REMEDY_DATABASE_URL": url, "REMEDY_INSTANCE_PATH": str(tmp_path / "instance")}
    monkeypatch.delenv("REMEDY_DATABASE_POOL_SIZE", raising=False)
    process, port = start_serve(env, workers=expected.workers)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        # `remedy serve` supervises gunicorn: its command line and environment are what the
        # workers run with.
        gunicorn = child_running(process.pid, "gunicorn")
        arguments = Path(f"/proc/{gunicorn}/cmdline").read_bytes().decode().split("\0")
        environment = Path(f"/proc/{gunicorn}/environ").read_bytes().decode().split("\0")
    finally:
        process.terminate()
        process.wait(timeout=30)
        server_log(process)  # drained: closed once every writer has exited
    assert "gunicorn" in arguments
    assert option(arguments, "--worker-class") == "gthread"
    assert option(arguments, "--threads") == str(expected.threads)
    assert option(arguments, "--keep-alive") == "75"
    assert f"REMEDY_DATABASE_POOL_SIZE={expected.pool_size}" in environment


def test_remedy_serve_restarts_a_killed_job_worker_and_stops_everything_on_sigterm(
    tmp_path: Path,
):
    """The hardening issue, finding 5: a job worker killed with -9 is started again by
    `remedy serve`, which stays up; SIGTERM then stops gunicorn, the front and the worker."""
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    process, port = start_serve(env, workers=1)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        first = child_running(process.pid, "worker")
        os.kill(first, signal.SIGKILL)
        wait_until(
            lambda: any(
                pid != first and "worker" in cmdline
                for pid, cmdline in children(process.pid).items()
            ),
            process,
            "a new job worker",
        )
        second = child_running(process.pid, "worker")
        assert second != first and process.poll() is None
        started = set(children(process.pid))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log = server_log(process)
    assert "serve: job worker exited with -9; restarting" in log
    for pid in started:  # every child of `remedy serve` is gone with it
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def descendants(pid: int) -> dict[int, list[str]]:
    """Every process under `pid` (children, theirs, ...) and its command line."""
    found = {}
    for child, cmdline in children(pid).items():
        found[child] = cmdline
        with contextlib.suppress(FileNotFoundError):  # gone while we looked
            found.update(descendants(child))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for its reaper does not)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


# "Within a few seconds": gunicorn and its job worker are told with SIGTERM (Linux's parent-death
# signal) and have no request or job to finish; nginx is told with SIGTERM too (a fast stop).
ORPHAN_SECONDS = 10


@pytest.mark.parametrize("front", ["nginx", "none"])
def test_the_services_processes_never_outlive_a_killed_remedy_serve(tmp_path: Path, front: str):
    """Killed with -9, `remedy serve` cannot stop its children itself: Linux tells them, and
    every process under it (gunicorn's master and workers, nginx's master and worker, the job
    worker) is gone within a few seconds; the port is free for the restarted service."""
    if front == "nginx" and nginx_binary() is None:
        pytest.skip("nginx is not installed")
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    process, port = start_serve(env, 2, "--front", front)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        wait_until(
            lambda: (
                len([c for c in descendants(process.pid).values() if "worker" in c]) == 1
                and sum("gunicorn" in " ".join(c) for c in descendants(process.pid).values()) >= 3
            ),
            process,
            "gunicorn's two workers and the job worker",
        )
        started = descendants(process.pid)
        kinds = {
            "gunicorn": sum("gunicorn" in " ".join(c) for c in started.values()),
            "nginx": sum(c[0].startswith("nginx") for c in started.values()),
            "job worker": sum("worker" in c for c in started.values()),
        }
        assert kinds["gunicorn"] == 3 and kinds["job worker"] == 1, started
        assert kinds["nginx"] == (2 if front == "nginx" else 0), started  # master and worker
        process.kill()
        process.wait()
        killed = time.monotonic()
        gone: dict[int, float] = {}
        while any(alive(pid) for pid in started):
            left = {pid: started[pid] for pid in started if alive(pid)}
            for pid in set(started) - set(left) - set(gone):
                gone[pid] = time.monotonic() - killed
            assert time.monotonic() - killed < ORPHAN_SECONDS, f"orphans: {left}; gone: {gone}"
            time.sleep(0.1)  # polling for an outcome, bounded by the deadline
        with socket.socket() as probe:  # nothing holds the service's port any more
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
    finally:
        server_log(process)


def test_serve_runs_gunicorn_and_answers_a_recommendation(env):
    output = run(env, "init").output
    admin = output.split("keep it safe): ")[1].split()[0]
    process, port = start_serve(env, workers=2)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        body = json.dumps(
            {
                "incident": {
                    "customer_id": "c9",
                    "severity": 3,
                    "fault_type": "partner",
                    "customer_value": "900.00",
                    "loss_amount": "45.00",
                    "currency": "USD",
                }
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/recommendations",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
            decision = json.loads(response.read())
        assert decision["plans"] and decision["currency"] == "USD"
        # A long request line is the app's 414 in the envelope up to gunicorn's 8190 bytes,
        # then gunicorn's own (HTML) 414: docs/deployment.md.
        for length, kind in ((5000, "application/json"), (9000, "text/html")):
            url = f"http://127.0.0.1:{port}/healthz?q=" + "a" * length
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=10)  # noqa: S310 - local test server
            assert refused.value.code == 414
            assert refused.value.headers["Content-Type"] == kind
            if kind == "application/json":
                assert json.loads(refused.value.read())["code"] == 414
            refused.value.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        server_log(process)  # drained: closed once every writer has exited


def test_serve_runs_a_replay_in_its_job_worker_and_stops_cleanly(env):
    """`remedy serve` starts a job worker beside gunicorn: a what-if answers 202 at once and
    the worker runs it; SIGTERM stops gunicorn (exit 0) and the worker with it."""
    import signal
    from datetime import timedelta

    from remedy import create_app
    from remedy.decisions.record import incident_to_json
    from remedy.extensions import db
    from remedy.store.tables import utcnow
    from tests.factories import decision_row, make_incident

    run(env, "init")
    finance = run(env, "keys", "create", "--role", "finance").output.strip()
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    incidents = 100
    now = utcnow()
    with db.database(app).unit_of_work() as session:
        for n in range(incidents):
            row = decision_row({"apology+gift_1x": ("10.00", False)}, customer_id=f"c{n}")
            loss = f"{20 + n % 300}.00"
            row.incident = incident_to_json(
                make_incident(customer_id=f"c{n}", severity=1 + n % 5, loss_amount=loss)
            )
            row.created_at = now - timedelta(minutes=n)
            session.add(row)
    db.database(app).dispose()
    process, port = start_serve(env, workers=1)
    headers = {"Authorization": f"Bearer {finance}", "Content-Type": "application/json"}
    job: dict = {}

    def finished() -> bool:
        request = urllib.request.Request(location, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            job.update(json.loads(response.read()))
        return job["status"] in ("succeeded", "failed")

    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        window = {
            "from": str(now.date() - timedelta(days=2)),
            "to": str(now.date() + timedelta(days=1)),
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/budgets/simulate",
            data=json.dumps(window).encode(),
            method="POST",
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert response.status == 202
            location = f"http://127.0.0.1:{port}" + response.headers["Location"]
        wait_until(finished, process, "the job worker finishing the replay", timeout=120)
        assert job["status"] == "succeeded", job
        assert job["result"]["current"]["decisions"] == incidents
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
        # stderr closes once the worker, which shares it, has exited too.
        assert "stopped after 1 job(s)" in process.log.text(wait=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        server_log(process)  # drained: closed once every writer has exited

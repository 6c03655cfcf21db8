"""`remedy worker` as its own process: it runs a job the web app queued (the job outlives the
app that queued it), and it stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from remedy import create_app
from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.store.migrate import upgrade
from remedy.store.tables import utcnow
from training.drive import drive


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite database with the default documents, as the worker's environment."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    upgrade(url)
    return {
        **os.environ,
        "REMEDY_DATABASE_URL": url,
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
        "REMEDY_MODEL_DIR": str(tmp_path / "models"),
    }


def _app(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """A fresh app on the environment's database (a web worker, restarted)."""
    return create_app(
        {"DATABASE_URL": env["REMEDY_DATABASE_URL"], "MODEL_DIR": env["REMEDY_MODEL_DIR"]},
        instance_path=env["REMEDY_INSTANCE_PATH"],
    )


def worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    """Start `remedy worker` in its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "worker", "--nice", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_job_queued_by_one_app_is_run_by_a_worker_process_and_read_by_another(env):
    web = _app(env)
    with db.database(web).unit_of_work() as session:
        ConfigService(session).seed_defaults()
        finance, _ = KeyService(session).create("finance")
    drive(web, 8, team="sim", seed=2, progress=False)
    today = utcnow().date()
    window = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    headers = {"Authorization": f"Bearer {finance}"}
    queued = web.test_client().post("/v1/budgets/simulate", json=window, headers=headers)
    assert queued.status_code == 202, queued.json
    db.database(web).dispose()  # the web worker goes away; the job stays in the database

    process = worker(env, "--once")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "1 job(s) run, stopping" in out

    restarted = _app(env)
    job = restarted.test_client().get(queued.headers["Location"], headers=headers).json
    assert job["status"] == "succeeded", job
    assert job["result"]["current"]["decisions"] == 8
    assert job["progress"] == {"done": 16, "total": 16}
    db.database(restarted).dispose()


def test_the_worker_exits_cleanly_on_sigterm(env):
    process = worker(env, "--poll", "0.2")
    try:
        assert "whatif.simulate" in process.stderr.readline()  # the kinds it runs
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
        assert process.returncode == 0
        assert "0 job(s) run, stopping" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

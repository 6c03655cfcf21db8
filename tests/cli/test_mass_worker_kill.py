"""A mass incident survives real `remedy worker` processes killed with SIGKILL mid-way: once
while deciding and once while reserving. A new worker takes the job over when the dead one's
lease passes, resumes where it stopped, and every customer ends with exactly one decision and
exactly one reservation, the pool's counter equal to their sum and the ledger verified."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.ledger.book import verify_ledger
from remedy.services.keys import KeyService
from remedy.store.tables import (
    Decision,
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
    PoolCounter,
    Reservation,
)
from tests.factories import set_pool

# 160 in the suite; the 5,000 on demand (run once, figures in benchmarks/README.md):
# REMEDY_MASS_KILL_CUSTOMERS=5000 pytest tests/cli/test_mass_worker_kill.py -k postgresql
CUSTOMERS = int(os.environ.get("REMEDY_MASS_KILL_CUSTOMERS", "160"))
TIMEOUT = max(240, CUSTOMERS // 5)


def start_worker(app, tmp_path: Path, name: str) -> subprocess.Popen:
    """`remedy worker` in its own process on the app's database (a 5 s lease, the least)."""
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": app.config["DATABASE_URL"],
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
        "REMEDY_MODEL_DIR": app.config["MODEL_DIR"],
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    with open(tmp_path / f"{name}.log", "w") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "remedy.cli",
                "worker",
                "--nice",
                "0",
                "--lease",
                "5",
                "--poll",
                "0.1",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(app, what: Callable, until: Callable[[object], bool], why: str) -> object:
    deadline = time.monotonic() + TIMEOUT
    while True:
        with db.database(app).unit_of_work() as session:
            value = what(session)
        if until(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {why} (last: {value})"
        time.sleep(0.02)


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def count(model, *where):  # type: ignore[no-untyped-def]
    return lambda session: session.scalar(
        sa.select(sa.func.count()).select_from(model).where(*where)
    )


@pytest.mark.parametrize("app", [{"MASS_INCIDENT_CHUNK_SIZE": 10}], indirect=True)
def test_a_killed_worker_resumes_and_reserves_each_customer_once(app, client, tmp_path):
    set_pool(app, "emea", "1000000.00")
    with db.database(app).unit_of_work() as session:
        declarer, _ = KeyService(session).create("lead", "emea", "declarer")
        approver, _ = KeyService(session).create("lead", "emea", "approver")
    rows = [
        {"customer_id": f"k-{i}", "customer_value": "300.00", "loss_amount": "15.00"}
        for i in range(CUSTOMERS)
    ]
    declared = client.post(
        "/v1/mass-incidents",
        json={
            "incident": {"severity": 3, "fault_type": "company", "currency": "EUR"},
            "team": "emea",
            "customers": rows,
        },
        headers={"Authorization": f"Bearer {declarer}"},
    )
    assert declared.status_code == 202, declared.json
    mass_id = declared.json["id"]
    decided = count(
        MassIncidentCustomer,
        MassIncidentCustomer.mass_incident_id == mass_id,
        MassIncidentCustomer.state == "decided",
    )
    workers = []
    try:
        # Kill the first worker while it decides.
        workers.append(start_worker(app, tmp_path, "first"))
        wait_for(app, decided, lambda n: n >= 30, "some customers decided")
        kill(workers[-1])
        with db.database(app).unit_of_work() as session:
            at_kill = decided(session)
        assert 0 < at_kill < CUSTOMERS, "the worker was not killed mid-way"

        workers.append(start_worker(app, tmp_path, "second"))
        status = lambda session: session.get(MassIncident, mass_id, populate_existing=True).status  # noqa: E731
        wait_for(app, status, lambda s: s == "ready", "the mass incident to be ready")
        with db.database(app).unit_of_work() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Decision)) == CUSTOMERS
            assert decided(session) == CUSTOMERS  # each customer decided exactly once

        approved = client.post(
            f"/v1/mass-incidents/{mass_id}/approve",
            json={},
            headers={"Authorization": f"Bearer {approver}"},
        )
        assert approved.status_code == 202, approved.json
        chunks_done = count(
            MassIncidentChunk,
            MassIncidentChunk.mass_incident_id == mass_id,
            MassIncidentChunk.state == "reserved",
        )
        wait_for(app, chunks_done, lambda n: n >= 2, "some chunks reserved")
        kill(workers[-1])
        with db.database(app).unit_of_work() as session:
            at_kill = chunks_done(session)
        assert 0 < at_kill < CUSTOMERS // 10, "the worker was not killed mid-way"

        workers.append(start_worker(app, tmp_path, "third"))
        wait_for(app, status, lambda s: s in ("reserved", "partly_reserved"), "the reservations")
    finally:
        for process in workers:
            stop(process)

    with db.database(app).unit_of_work() as session:
        assert status(session) == "reserved"
        per_decision = dict(
            session.execute(
                sa.select(Reservation.decision_id, sa.func.count()).group_by(
                    Reservation.decision_id
                )
            ).all()
        )
        assert len(per_decision) == CUSTOMERS and set(per_decision.values()) == {1}
        costs = session.scalar(
            sa.select(sa.func.sum(MassIncidentCustomer.cost_minor)).where(
                MassIncidentCustomer.mass_incident_id == mass_id
            )
        )
        counter = session.scalar(sa.select(PoolCounter).where(PoolCounter.team == "emea"))
        assert counter.reserved_minor == costs
    with db.database(app).unit_of_work() as session:  # a fresh session: it reads a snapshot
        report, _ = verify_ledger(session)
    assert report.ok, report

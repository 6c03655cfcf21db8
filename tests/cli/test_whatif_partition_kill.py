"""A partitioned what-if survives a real `remedy worker` killed with SIGKILL mid-partition: the
partition's lease passes, another worker claims it (and the dead worker's parent job), and the
report is the one a single process gives."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import Job
from remedy.whatif.partitions import PARTITION_KIND
from tests.cli.test_mass_worker_kill import kill, start_worker, stop
from tests.factories import simulated
from tests.whatif.partitioned import request, seed_month

DECISIONS = 1600
PARTITION = 400
TIMEOUT = 300


def _jobs(app) -> list[tuple[str, str, str | None, int]]:  # type: ignore[no-untyped-def]
    """(kind, status, worker, attempts) of every job, partitions in order."""
    with db.database(app).unit_of_work() as session:
        rows = session.scalars(sa.select(Job).order_by(Job.created_at, Job.id)).all()
        return [(j.kind, j.status, j.worker, j.attempts, j.params.get("index")) for j in rows]


def _wait(app, until, why: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT
    while True:
        jobs = _jobs(app)
        if until(jobs):
            return jobs
        assert time.monotonic() < deadline, f"timed out waiting for {why}: {jobs}"
        time.sleep(0.02)


@pytest.mark.parametrize("app", [{"WHATIF_PARTITION_INCIDENTS": 0}], indirect=True)
def test_a_worker_killed_mid_partition_is_taken_over(app, client, auth, tmp_path: Path):
    seed_month(app, DECISIONS)
    queued = client.post("/v1/budgets/simulate", json=request(), headers=auth("finance"))
    assert queued.status_code == 202, queued.json
    os.environ["REMEDY_WHATIF_PARTITION_INCIDENTS"] = str(PARTITION)
    workers = []
    try:
        workers.append(start_worker(app, tmp_path, "first"))
        running = lambda jobs: any(  # noqa: E731
            kind == PARTITION_KIND and status == "running" for kind, status, *_ in jobs
        )
        _wait(app, running, "a partition to run")
        kill(workers[-1])
        at_kill = _jobs(app)
        killed = [j for j in at_kill if j[0] == PARTITION_KIND and j[1] == "running"]
        assert len(killed) == 1, at_kill  # killed mid-partition: it never finished
        assert len([j for j in at_kill if j[0] == PARTITION_KIND]) == DECISIONS // PARTITION
        index = killed[0][4]

        workers.append(start_worker(app, tmp_path, "second"))
        workers.append(start_worker(app, tmp_path, "third"))
        done = _wait(
            app,
            lambda jobs: jobs[0][1] in ("succeeded", "failed"),
            "the what-if to finish",
        )
    finally:
        os.environ.pop("REMEDY_WHATIF_PARTITION_INCIDENTS", None)
        for process in workers:
            stop(process)
    assert done[0][1] == "succeeded", done
    partitions = [j for j in done if j[0] == PARTITION_KIND]
    assert {status for _, status, *_ in partitions} == {"succeeded"}
    retried = next(j for j in partitions if j[4] == index)
    assert retried[3] == 2  # its lease passed and another worker claimed it again
    job = client.get(queued.headers["Location"], headers=auth("finance"))
    partitioned = job.json["result"]
    single = simulated(app, client, request(), auth("finance"))  # in this process, unsplit
    assert partitioned == single
    assert single["current"]["decisions"] == DECISIONS

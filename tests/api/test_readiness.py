"""/readyz tells the truth about the job queue (the hardening issue, finding 5): how many jobs
wait and for how long, leases past their time, the workers seen; not ready while jobs wait with
no live worker; a dead worker's job is reclaimed by a live one and completes exactly once."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.job_kinds import JobRegistry
from remedy.services.job_runner import JobRunner
from remedy.services.jobs import JobQueue
from remedy.services.keys import Principal
from remedy.store.tables import Job, JobWorker, utcnow
from tests.api.test_jobs import _job

PRINCIPAL = Principal("p", "finance", None)


def enqueue(app, kind: str = "count") -> str:
    with db.database(app).unit_of_work() as session:
        return JobQueue(session).enqueue(kind, {}, "finance", PRINCIPAL).id


def test_queued_jobs_without_a_worker_are_not_ready_until_one_is_seen(app, client):
    job_id = enqueue(app)
    with db.database(app).unit_of_work() as session:
        session.execute(sa.update(Job).values(created_at=utcnow() - timedelta(seconds=90)))
    refused = client.get("/readyz")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert "1 job(s) queued" in refused.json["errors"]["jobs"][0]
    with db.database(app).unit_of_work() as session:
        JobQueue(session).seen("worker-a")
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    queue = ready.json["queue"]
    assert (queue["queued"], queue["stale_leases"], queue["workers_seen"]) == (1, 0, 1)
    assert 90 <= queue["oldest_queued_seconds"] < 300
    with db.database(app).unit_of_work() as session:  # seen two minutes ago: gone
        session.execute(sa.update(JobWorker).values(seen_at=utcnow() - timedelta(minutes=2)))
    assert client.get("/readyz").status_code == 503
    assert _job(app, job_id).status == "queued"


def test_a_dead_workers_job_is_reclaimed_by_a_live_worker_and_completes_once(app, client):
    job_id = enqueue(app)
    with db.database(app).unit_of_work() as session:
        JobQueue(session).claim("dead", timedelta(seconds=60))
        JobQueue(session).seen("dead")
    running = client.get("/readyz").json["queue"]
    assert (running["queued"], running["stale_leases"], running["workers_seen"]) == (0, 0, 1)
    with db.database(app).unit_of_work() as session:  # killed: no heartbeat, lease passes
        session.execute(sa.update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
        session.execute(sa.update(JobWorker).values(seen_at=utcnow() - timedelta(minutes=2)))
    stale = client.get("/readyz")
    assert stale.status_code == 503 and "1 past their lease" in stale.json["message"]

    runs = []

    def count(context, params):
        runs.append(1)
        return {"counted": len(runs)}

    runner = JobRunner(db.database(app), JobRegistry({"count": count}), app.config, None)
    assert runner.run(once=True) == 1
    row = _job(app, job_id)
    assert (row.status, row.attempts, row.result, len(runs)) == ("succeeded", 2, {"counted": 1}, 1)
    assert runner.run(once=True) == 0 and len(runs) == 1  # nothing left: exactly once
    with db.database(app).unit_of_work() as session:  # the stopped worker forgot itself
        assert (
            session.scalar(sa.select(JobWorker.name).where(JobWorker.name == runner.name)) is None
        )
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["queue"]["stale_leases"] == 0

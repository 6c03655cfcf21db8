"""Jobs: a what-if queued by the API (202 + Location), run by the worker's runner, read back
with its progress, result or error; team scope; leases of dead workers; on both databases."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from remedy.errors import InvalidInput
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.job_kinds import JobRegistry
from remedy.services.job_runner import JobRunner
from remedy.services.jobs import MAX_ATTEMPTS, JobQueue
from remedy.services.keys import KeyService, Principal
from remedy.store.tables import Job, utcnow
from tests.factories import run_jobs
from training.drive import drive


def _range() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


@pytest.fixture
def logged(app):
    """Twelve logged decisions of team `sim`."""
    drive(app, 12, team="sim", seed=5, progress=False)
    return app


def _job(app, job_id: str) -> Job:
    with db.database(app).unit_of_work() as session:
        return session.get(Job, job_id)


def test_a_replay_is_queued_then_run_by_the_worker(logged, client, auth):
    """202 with Location; queued until a worker runs it; then its progress and result."""
    queued = client.post("/v1/budgets/simulate", json=_range(), headers=auth("finance"))
    assert queued.status_code == 202, queued.json
    job_id = queued.json["id"]
    assert queued.headers["Location"].endswith(f"/v1/jobs/{job_id}")
    assert queued.json["status"] == "queued" and queued.json["kind"] == "whatif.simulate"
    assert queued.json["progress"] == {"done": 0, "total": None}
    waiting = client.get(queued.headers["Location"], headers=auth("finance")).json
    assert waiting["status"] == "queued" and waiting["result"] is None

    assert run_jobs(logged) == 1
    done = client.get(queued.headers["Location"], headers=auth("finance")).json
    assert done["status"] == "succeeded", done
    assert done["progress"] == {"done": 24, "total": 24}  # 12 incidents x 2 settings
    assert done["attempts"] == 1 and done["error"] is None
    assert done["started_at"] <= done["finished_at"]
    assert done["result"]["current"]["decisions"] == 12
    assert set(done["result"]) >= {"from", "to", "model", "current", "proposed"}
    assert run_jobs(logged) == 0  # nothing left to claim


def test_progress_is_written_while_the_job_runs(app):
    """The heartbeat writes the job's progress while its function is still working."""
    with db.database(app).unit_of_work() as session:
        job_id = (
            JobQueue(session).enqueue("count", {}, "finance", Principal("p", "finance", None)).id
        )
    seen = []

    def count(context, params):
        advance = context.progress(10)
        advance(4)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait for the heartbeat to write it
            row = _job(app, job_id)
            if row.progress_done == 4:
                seen.append((row.progress_done, row.progress_total, row.status))
                break
            time.sleep(0.02)
        advance(6)
        return {"counted": 10}

    runner = JobRunner(
        db.database(app), JobRegistry({"count": count}), app.config, None, heartbeat=0.05
    )
    assert runner.run(once=True) == 1
    assert seen == [(4, 10, "running")]
    row = _job(app, job_id)
    assert (row.status, row.result, row.progress_done) == ("succeeded", {"counted": 10}, 10)


def test_a_failed_job_shows_its_error(app, client, keys, auth):
    """A domain error becomes the job's error (message and fields); so does a crash."""
    with db.database(app).unit_of_work() as session:
        principal = KeyService(session).authenticate(keys["finance"])
        queue = JobQueue(session)
        refused = queue.enqueue("refuse", {}, "finance", principal).id
        crashed = queue.enqueue("crash", {}, "finance", principal).id
        unknown = queue.enqueue("nobody-knows", {}, "finance", principal).id

    def refuse(context, params):
        raise InvalidInput("the range is too large", {"to": ["too large"]})

    def crash(context, params):
        return {"ratio": 1 / 0}

    runner = JobRunner(
        db.database(app), JobRegistry({"refuse": refuse, "crash": crash}), app.config, None
    )
    assert runner.run(once=True) == 3
    shown = client.get(f"/v1/jobs/{refused}", headers=auth("finance")).json
    assert shown["status"] == "failed" and shown["result"] is None
    assert shown["error"] == {"message": "the range is too large", "errors": {"to": ["too large"]}}
    shown = client.get(f"/v1/jobs/{crashed}", headers=auth("finance")).json
    assert shown["error"]["message"] == "the job failed: ZeroDivisionError: division by zero"
    shown = client.get(f"/v1/jobs/{unknown}", headers=auth("finance")).json
    assert shown["error"]["message"] == "no worker knows jobs of kind 'nobody-knows'"


def test_team_scope_and_role(logged, client, auth):
    """A scoped key's job is its team's: another team's key and an agent get 404; an unscoped
    finance key sees it; a scoped key never sees an unscoped key's job."""
    with db.database(logged).unit_of_work() as session:
        tokens = {
            (role, team): KeyService(session).create(role, team)[0]
            for role in ("finance", "agent")
            for team in ("sim", "emea")
        }

    def key(role, team):
        return {"Authorization": f"Bearer {tokens[(role, team)]}"}

    mine = client.post("/v1/budgets/simulate", json=_range(), headers=key("finance", "sim"))
    assert mine.status_code == 202, mine.json
    location = mine.headers["Location"]
    assert client.get(location, headers=key("finance", "emea")).status_code == 404
    assert client.get(location, headers=key("agent", "sim")).status_code == 404
    assert client.get(location, headers=auth("finance")).status_code == 200
    run_jobs(logged)
    assert client.get(location, headers=key("finance", "sim")).json["status"] == "succeeded"
    theirs = client.post("/v1/budgets/simulate", json=_range(), headers=auth("finance"))
    assert client.get(theirs.headers["Location"], headers=key("finance", "sim")).status_code == 404
    assert client.get("/v1/jobs/nope", headers=auth("finance")).status_code == 404
    assert client.get(location).status_code == 401


def test_a_dead_workers_job_is_claimed_again_after_its_lease(app):
    """A claimed job whose lease passed goes to the next worker; after MAX_ATTEMPTS claims by
    workers that died, it fails saying so."""
    principal = Principal("p", "finance", None)
    with db.database(app).unit_of_work() as session:
        job_id = JobQueue(session).enqueue("count", {}, "finance", principal).id
    with db.database(app).unit_of_work() as session:
        assert JobQueue(session).claim("dead-1", timedelta(seconds=60)).id == job_id
    with db.database(app).unit_of_work() as session:  # its lease holds: nothing to claim
        assert JobQueue(session).claim("other") is None
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with db.database(app).unit_of_work() as session:
            session.execute(sa.update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
        with db.database(app).unit_of_work() as session:
            job = JobQueue(session).claim(f"dead-{attempt}")
            assert (job.id, job.attempts, job.worker) == (job_id, attempt, f"dead-{attempt}")
        with db.database(app).unit_of_work() as session:  # the old worker may no longer write
            assert not JobQueue(session).heartbeat(job_id, f"dead-{attempt - 1}", 1, 2)
    with db.database(app).unit_of_work() as session:
        session.execute(sa.update(Job).values(lease_until=utcnow() - timedelta(seconds=1)))
    with db.database(app).unit_of_work() as session:
        assert JobQueue(session).claim("late") is None
    row = _job(app, job_id)
    assert row.status == "failed" and "stopped 3 times" in row.error["message"]


def test_claiming_is_fair_across_teams(app):
    """EMEA queued three jobs before APAC queued one: with one EMEA job running, the next
    worker takes APAC's job, not EMEA's second."""
    emea, apac = Principal("e", "finance", "emea"), Principal("a", "finance", "apac")
    with db.database(app).unit_of_work() as session:
        queue = JobQueue(session)
        emea_jobs = [queue.enqueue("count", {}, "finance", emea).id for _ in range(3)]
    with db.database(app).unit_of_work() as session:
        apac_job = JobQueue(session).enqueue("count", {}, "finance", apac).id
    with db.database(app).unit_of_work() as session:
        assert JobQueue(session).claim("w1").id == emea_jobs[0]  # the oldest, nobody runs
    with db.database(app).unit_of_work() as session:
        assert JobQueue(session).claim("w2").id == apac_job  # APAC runs nothing yet
    with db.database(app).unit_of_work() as session:
        assert JobQueue(session).claim("w3").id == emea_jobs[1]  # one each: the oldest again


def test_stopping_puts_the_running_job_back_in_the_queue(app):
    """SIGTERM's path: the job is interrupted at its next progress report and queued again."""
    with db.database(app).unit_of_work() as session:
        job_id = JobQueue(session).enqueue("long", {}, "finance", Principal("p", "f", None)).id

    def long(context, params):
        advance = context.progress(2)
        runner.stop()  # as the SIGTERM handler does
        advance(1)
        return {"never": True}

    runner = JobRunner(db.database(app), JobRegistry({"long": long}), app.config, None)
    assert runner.run() == 1
    row = _job(app, job_id)
    assert (row.status, row.worker, row.attempts, row.result) == ("queued", None, 0, None)
    registry = app_services.jobs(app)  # the app's registry: each domain registered its own
    assert {"whatif.simulate", "whatif.suggest_caps", "mass_incident.decide"} <= set(registry.kinds)
    assert [task.name for task in registry.tasks] == [
        "approvals.escalate",
        "webhooks.deliver",
        "at_risk.notify",
        "integrations.purge_sessions",
        "experiments.check",
    ]


def test_suggested_caps_are_searched_by_a_job_for_the_pool_asked(logged, client, auth):
    """POST /v1/budgets/<team>/suggest-caps queues the search (202 + Location); the worker runs
    it; the result puts today's caps beside the suggestion for that pool. A team without a
    pool in the currency is 422 naming `team`; another team's scoped key is refused."""
    body = {"currency": "EUR", **_range()}
    queued = client.post("/v1/budgets/sim/suggest-caps", json=body, headers=auth("finance"))
    assert queued.status_code == 202, queued.json
    assert queued.json["kind"] == "whatif.suggest_caps" and queued.json["status"] == "queued"
    assert run_jobs(logged) == 1
    done = client.get(queued.headers["Location"], headers=auth("finance")).json
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert (result["team"], result["currency"]) == ("sim", "EUR")
    assert result["today"]["factors"] and result["suggested"]["factors"]
    assert "incident_caps" in result["suggested"]["caps"]
    assert done["progress"]["done"] == done["progress"]["total"] > 1

    nowhere = client.post("/v1/budgets/nobody/suggest-caps", json=body, headers=auth("finance"))
    assert nowhere.status_code == 422 and "team" in nowhere.json["errors"]
    backwards = {"currency": "EUR", "from": body["to"], "to": body["from"]}
    refused = client.post("/v1/budgets/sim/suggest-caps", json=backwards, headers=auth("finance"))
    assert refused.status_code == 422 and "to" in refused.json["errors"]
    with db.database(logged).unit_of_work() as session:
        emea = KeyService(session).create("finance", "emea")[0]
    other = client.post(
        "/v1/budgets/sim/suggest-caps", json=body, headers={"Authorization": f"Bearer {emea}"}
    )
    assert other.status_code == 403
    assert (
        client.post("/v1/budgets/sim/suggest-caps", json=body, headers=auth("agent")).status_code
        == 403
    )
    assert run_jobs(logged) == 0  # nothing refused was queued

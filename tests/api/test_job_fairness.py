"""Jobs are shared fairly (the hardening issue, finding 8): each key and each team may have only
so many queued or running (429 with Retry-After beyond), and a queued or running job can be
cancelled; on both databases."""

from __future__ import annotations

import pytest

from remedy.extensions import db
from remedy.services.job_kinds import JobRegistry
from remedy.services.job_runner import JobRunner
from remedy.services.jobs import JobQueue
from remedy.services.keys import KeyService, Principal
from remedy.store.tables import Job
from tests.api.test_jobs import _job, _range
from tests.conftest import row_count
from tests.factories import run_jobs


def simulate(client, headers):
    return client.post("/v1/budgets/simulate", json=_range(), headers=headers)


def scoped_finance(app, team: str, label: str) -> dict[str, str]:
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("finance", team, label)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("app", [{"JOBS_PER_KEY": 2}], indirect=True)
def test_a_key_at_its_quota_gets_429_with_retry_after_until_one_ends(app, client, auth):
    first = simulate(client, auth("finance"))
    assert first.status_code == 202 and simulate(client, auth("finance")).status_code == 202
    refused = simulate(client, auth("finance"))
    assert refused.status_code == 429, refused.json
    assert refused.headers["Retry-After"] == "30"
    assert "this key has 2 jobs queued or running" in refused.json["errors"]["_request"][0]
    assert row_count(app, Job) == 2
    assert simulate(client, auth("admin")).status_code == 202  # another key has its own
    cancelled = client.post(f"/v1/jobs/{first.json['id']}/cancel", headers=auth("finance"))
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert simulate(client, auth("finance")).status_code == 202


@pytest.mark.parametrize("app", [{"JOBS_PER_TEAM": 2}], indirect=True)
def test_a_team_at_its_quota_gets_429_whichever_of_its_keys_asks(app, client, auth):
    one, two = scoped_finance(app, "sim", "one"), scoped_finance(app, "sim", "two")
    assert simulate(client, one).status_code == 202 and simulate(client, one).status_code == 202
    refused = simulate(client, two)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert "team 'sim' has 2 jobs" in refused.json["message"]
    assert simulate(client, scoped_finance(app, "apac", "apac")).status_code == 202
    assert simulate(client, auth("finance")).status_code == 202  # unscoped: its own quota


def test_a_queued_job_cancelled_is_never_run_and_an_ended_one_is_409(app, client, auth):
    queued = simulate(client, auth("finance")).json
    other_team = scoped_finance(app, "apac", "apac")
    assert client.post(f"/v1/jobs/{queued['id']}/cancel", headers=other_team).status_code == 404
    cancelled = client.post(f"/v1/jobs/{queued['id']}/cancel", headers=auth("finance"))
    assert cancelled.status_code == 200
    assert cancelled.json["error"]["message"].startswith("cancelled by key ")
    assert run_jobs(app) == 0
    again = client.post(f"/v1/jobs/{queued['id']}/cancel", headers=auth("finance"))
    assert again.status_code == 409 and "status" in again.json["errors"]
    assert client.get(f"/v1/jobs/{queued['id']}", headers=auth("finance")).json["status"] == (
        "cancelled"
    )


def test_a_running_job_cancelled_stops_and_keeps_no_result(app):
    """The worker loses a cancelled job: its heartbeat and its result no longer write."""
    principal = Principal("p", "finance", None)
    with db.database(app).unit_of_work() as session:
        job_id = JobQueue(session).enqueue("long", {}, "finance", principal).id

    def long(context, params):
        advance = context.progress(2)
        advance(1)
        with db.database(app).unit_of_work() as session:  # someone cancels it meanwhile
            JobQueue(session).cancel(job_id, principal)
        return {"finished": True}

    runner = JobRunner(db.database(app), JobRegistry({"long": long}), app.config, None)
    assert runner.run(once=True) == 1
    row = _job(app, job_id)
    assert (row.status, row.result, row.lease_until) == ("cancelled", None, None)

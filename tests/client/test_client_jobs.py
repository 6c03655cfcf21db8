"""RemedyClient's long work against the real service: `remedy simulate --url` drives it over HTTP,
a what-if job is queued and waited for, a failed job raises its error, and a mass incident goes
through `remedy serve`, its front and its worker.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from remedy.client import JobFailed, RemedyClient, RemedyError
from tests.cli.driving import run


def test_remedy_simulate_drives_a_running_service_over_http(service):
    result = run(
        service["env"],
        "simulate",
        "--incidents",
        "6",
        "--team",
        "sim-http",
        "--no-progress",
        "--url",
        service["url"],
        "--key",
        service["admin"],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("6 decisions, 6 accepted, 0 refused")
    finance = RemedyClient(service["url"], service["finance"])
    pools = [p for p in finance.pools() if p["team"] == "sim-http"]
    assert {p["currency"] for p in pools} == {"USD", "EUR", "GBP", "JPY"}
    assert any(Decimal(p["committed"]) > 0 for p in pools)


def test_remedy_simulate_over_http_needs_a_key_and_says_when_refused(service):
    missing = run(service["env"], "simulate", "--url", service["url"], "--no-progress")
    assert missing.exit_code == 2 and "--url needs --key" in missing.output
    refused = run(
        service["env"], "simulate", "--url", service["url"], "--key", "rmd_no_no", "--no-progress"
    )
    assert refused.exit_code == 1 and "the service refused: 401" in refused.output


def test_simulate_queues_a_job_and_wait_for_polls_it_to_its_result(service):
    client = RemedyClient(service["url"], service["finance"])
    today = datetime.now(UTC).date()
    start, end = str(today - timedelta(days=1)), str(today + timedelta(days=1))
    job = client.simulate(start, end)
    assert job["status"] == "queued" and job["kind"] == "whatif.simulate"
    seen: list[str] = []
    result = client.wait_for(
        job, poll=0.2, timeout=120, on_progress=lambda j: seen.append(j["status"])
    )
    assert seen[0] == "queued"
    assert result["current"]["decisions"] == result["proposed"]["decisions"]
    assert result["from"].startswith(start)
    assert client.get_job(job["id"])["status"] == "succeeded"
    with pytest.raises(RemedyError) as refused:
        client.simulate(end, start)  # refused before anything is queued
    assert refused.value.status == 422 and "to" in refused.value.errors
    with pytest.raises(RemedyError) as hidden:
        RemedyClient(service["url"], service["agent"]).get_job(job["id"])
    assert hidden.value.status == 404


def test_a_failed_job_raises_its_error():
    failed = {
        "id": "j",
        "status": "failed",
        "error": {"message": "too large", "errors": {"to": ["x"]}},
    }
    with pytest.raises(JobFailed) as raised:
        RemedyClient("http://127.0.0.1:9", "key").wait_for(failed)  # type: ignore[arg-type]
    assert (raised.value.status, raised.value.message) == (422, "too large")
    assert raised.value.errors == {"to": ["x"]} and raised.value.job is failed


def test_a_mass_incident_through_remedy_serve_its_front_and_its_worker(service):
    """Declared, decided by `remedy serve`'s own job worker, approved by another key (four
    eyes), reserved: the client's calls, the front's body limit and the worker together."""
    env = service["env"]
    other_finance = run(env, "keys", "create", "--role", "finance").output.strip()
    declarer = RemedyClient(service["url"], service["finance"])
    approver = RemedyClient(service["url"], other_finance)
    approver.set_pool("emea", "month", Decimal("50000.00"), "EUR")
    hook = approver.create_webhook("http://127.0.0.1:9/down", ["mass_incident.ready"], "emea")
    assert hook["secret"].startswith("whsec_")
    customers = [
        {
            "customer_id": f"serve-{i}",
            "customer_value": "400.00",
            "loss_amount": "12.00",
            "external_id": f"T-{i}",
            "locale": "nl-NL",
        }
        for i in range(400)  # about 40 KB: over 64 KiB would still pass the front
    ]
    mass = declarer.declare_mass_incident(
        {"severity": 3, "fault_type": "company", "category": "delivery", "currency": "EUR"},
        customers,
        team="emea",
    )
    assert mass["status"] == "deciding" and mass["job"] is not None
    declarer.wait_for(mass["job"], poll=0.3, timeout=180)
    ready = declarer.get_mass_incident(mass["id"])
    assert ready["status"] == "ready" and ready["counts"]["decided"] == 400
    (told,) = approver.webhook_deliveries(hook["id"])  # its receiver is down: nothing waited
    assert told["event"] == "mass_incident.ready"
    assert told["payload"]["data"]["mass_incident_id"] == mass["id"]
    assert ready["totals"][0]["pool"] is not None and ready["totals"][0]["pool"]["fits"]
    with pytest.raises(RemedyError) as refused:
        declarer.approve_mass_incident(mass["id"])  # four eyes
    assert refused.value.status == 403
    approved = approver.approve_mass_incident(mass["id"], "outage on Dec 7")
    assert approved["job"] is not None
    approver.wait_for(approved["job"], poll=0.3, timeout=180)
    done = approver.get_mass_incident(mass["id"])
    assert done["status"] == "reserved" and done["counts"]["reserved"] == 400
    assert done["totals"][0]["reserved"] == done["totals"][0]["planned"]

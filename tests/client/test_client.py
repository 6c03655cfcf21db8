"""RemedyClient against the real service: `remedy serve` (gunicorn) on a seeded SQLite file.

Two servers per module: one without rate limits for the API calls, one with a limit of a few
requests per second to provoke real 429s with `Retry-After`. The sleep the client is given
records each wait and then really waits, so a retry meets a fresh rate-limit window.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from remedy.client import OPERATIONS, JobFailed, RemedyClient, RemedyError, retry_delay
from tests.cli.driving import run, start_serve, wait_for

APPROVAL = {  # severe, ours, a valuable customer who threatens to leave: needs approval
    "customer_id": "c-vip",
    "severity": 5,
    "fault_type": "company",
    "customer_value": "20000.00",
    "loss_amount": "300.00",
    "currency": "EUR",
    "churn_threat": True,
    "external_id": "TICKET-7",
}
SIMPLE = {
    "customer_id": "c-42",
    "severity": 4,
    "fault_type": "company",
    "customer_value": "2400.00",
    "loss_amount": "80.00",
    "currency": "EUR",
    "locale": "fr-FR",
}


def _serve(folder: Path, rate_limit: str) -> Iterator[dict[str, Any]]:
    """Init a database in `folder`, serve it with one gunicorn worker; yield url and keys."""
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(folder / "models"),
        "REMEDY_RATE_LIMIT": rate_limit,
        "REMEDY_EXPLORATION_RATE": "0",
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    admin = run(env, "init").output.split("keep it safe): ")[1].split()[0]
    agent = run(env, "keys", "create", "--role", "agent").output.strip()
    finance = run(env, "keys", "create", "--role", "finance").output.strip()
    process, port = start_serve(env, workers=1)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process)
        yield {"url": url, "admin": admin, "agent": agent, "finance": finance, "env": env}
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """remedy serve without rate limits."""
    yield from _serve(tmp_path_factory.mktemp("client"), "")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """remedy serve with 3 requests per second per key."""
    yield from _serve(tmp_path_factory.mktemp("limited"), "3/second")


class Waits(list):
    """A sleep for the client: remembers each wait, then waits it."""

    def __call__(self, seconds: float) -> None:
        """Record and sleep."""
        self.append(seconds)
        time.sleep(seconds)


def test_every_operation_the_client_calls_is_in_the_openapi_document(service):
    with urllib.request.urlopen(f"{service['url']}/openapi.json", timeout=10) as response:  # noqa: S310
        spec = json.loads(response.read())
    for name, (method, path) in OPERATIONS.items():
        assert path in spec["paths"], (name, path)
        assert method.lower() in spec["paths"][path], (name, method, path)
        assert hasattr(RemedyClient, name), name
    accept = spec["paths"]["/v1/decisions/{decision_id}/accept"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in accept["parameters"])


def test_whoami_recommend_accept_fulfil_and_outcome(service):
    client = RemedyClient(service["url"], service["agent"])
    assert client.whoami()["role"] == "agent"
    decision = client.recommend(SIMPLE, team="emea", limit=2)
    best = [p for p in decision["plans"] if not p["generous"]]
    assert decision["status"] == "proposed" and len(best) == 2
    plan = decision["plans"][0]
    assert plan["currency"] == "EUR" and Decimal(plan["total_cost"]) > 0
    assert plan["talking_points"]["respond_within"].startswith("P")
    accepted = client.accept(decision["decision_id"], plan["plan_id"])
    assert accepted["status"] == "reserved"
    assert accepted["reservation"]["reserved"] == plan["total_cost"]
    fulfilled = client.fulfil(decision["decision_id"], Decimal(plan["total_cost"]) - 1, "EUR")
    assert fulfilled["status"] == "fulfilled"
    outcome = client.record_outcome(
        decision["decision_id"], True, datetime.now(UTC), referrals=1, csat=5
    )
    assert (outcome["retained"], outcome["referrals"], outcome["plan_id"]) == (
        True,
        1,
        plan["plan_id"],
    )
    assert client.get_decision(decision["decision_id"])["status"] == "fulfilled"


def test_an_approval_is_seen_by_the_agent_and_cancel_releases(service):
    agent = RemedyClient(service["url"], service["agent"])
    finance = RemedyClient(service["url"], service["finance"])
    decision = agent.recommend(APPROVAL, limit=10)  # the plans finance must approve rank lower
    plan = next(p for p in decision["plans"] if p["requires_approval"])
    assert agent.accept(decision["decision_id"], plan["plan_id"])["status"] == "pending_approval"
    assert agent.get_decision(decision["decision_id"])["status"] == "pending_approval"
    approved = finance.approve(decision["decision_id"], note="ok by finance")
    assert approved["status"] == "reserved" and approved["plan_id"] == plan["plan_id"]
    seen = agent.get_decision(decision["decision_id"])
    assert seen["status"] == "reserved"
    assert seen["approval"] is not None
    assert (seen["approval"]["decided_role"], seen["approval"]["reason"]) == (
        "finance",
        "ok by finance",
    )
    assert agent.cancel(decision["decision_id"])["status"] == "cancelled"
    other = agent.recommend({**APPROVAL, "customer_id": "c-vip-2"}, limit=10)
    plan = next(p for p in other["plans"] if p["requires_approval"])
    agent.accept(other["decision_id"], plan["plan_id"])
    rejected = finance.reject(other["decision_id"], "offer the credit instead")
    assert rejected["status"] == "rejected"
    assert agent.get_decision(other["decision_id"])["approval"]["reason"] == (
        "offer the credit instead"
    )


def test_errors_carry_the_envelope(service):
    client = RemedyClient(service["url"], service["agent"])
    with pytest.raises(RemedyError) as invalid:
        client.recommend({**SIMPLE, "severity": 9})
    assert invalid.value.status == 422
    assert invalid.value.envelope["code"] == 422
    assert "incident.severity" in invalid.value.errors
    decision = client.recommend(SIMPLE)
    client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])
    with pytest.raises(RemedyError) as conflict:
        client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])
    assert conflict.value.status == 409
    assert "accept needs it to be proposed" in conflict.value.errors["status"][0]
    with pytest.raises(RemedyError) as forbidden:
        client.approve(decision["decision_id"])
    assert forbidden.value.status == 403
    with pytest.raises(RemedyError) as unknown:
        RemedyClient(service["url"], "rmd_nope_nope").whoami()
    assert unknown.value.status == 401 and unknown.value.message


def test_the_same_idempotency_key_gets_the_first_answer_again(service):
    client = RemedyClient(service["url"], service["agent"])
    decision = client.recommend(SIMPLE)
    plan_id = decision["plans"][0]["plan_id"]
    first = client.accept(decision["decision_id"], plan_id, idempotency_key="ticket-7-accept")
    again = client.accept(decision["decision_id"], plan_id, idempotency_key="ticket-7-accept")
    assert again == first


class _DropFirstAnswer(http.server.BaseHTTPRequestHandler):
    """A relay to the service that forwards every request but drops the first answer.

    The service acts on the first request; the client sees its connection close unanswered,
    as when a load balancer resets a connection, and retries.
    """

    target = ""
    seen: list[str | None] = []

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        """Forward; for the first request, hang up instead of answering."""
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        request = urllib.request.Request(  # noqa: S310 - the local test service
            self.target + self.path, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        self.seen.append(self.headers.get("Idempotency-Key"))
        if len(self.seen) == 1:
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def test_a_lost_answer_is_retried_with_the_same_generated_key_and_replayed(service):
    decision = RemedyClient(service["url"], service["agent"]).recommend(SIMPLE)
    handler = type("Relay", (_DropFirstAnswer,), {"target": service["url"], "seen": []})
    relay = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=relay.serve_forever, daemon=True)
    thread.start()
    try:
        waits = Waits()
        client = RemedyClient(
            f"http://127.0.0.1:{relay.server_port}", service["agent"], sleep=waits
        )
        accepted = client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])
    finally:
        relay.shutdown()
        relay.server_close()
    # The service accepted on the first try; the retry, with the same key, got that answer
    # again (a new key would have been refused: the decision was no longer proposed).
    assert accepted["status"] == "reserved"
    assert len(handler.seen) == 2 and handler.seen[0] == handler.seen[1] is not None
    assert waits == [0.5]


def test_a_recommendation_is_not_repeated_when_its_answer_is_lost(service):
    handler = type("Relay", (_DropFirstAnswer,), {"target": service["url"], "seen": []})
    relay = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=relay.serve_forever, daemon=True)
    thread.start()
    try:
        client = RemedyClient(f"http://127.0.0.1:{relay.server_port}", service["agent"])
        with pytest.raises(ConnectionError):
            client.recommend(SIMPLE)
    finally:
        relay.shutdown()
        relay.server_close()
    assert len(handler.seen) == 1  # a repeat could have stored a second decision


def _exhaust(url: str, key: str) -> None:
    """Spend this second's requests of `key` until the service answers 429."""
    client = RemedyClient(url, key, max_attempts=1)
    for _ in range(10):
        try:
            client.whoami()
        except RemedyError as error:
            assert error.status == 429
            return
    raise AssertionError("no 429 after 10 requests")


def test_429_is_retried_after_retry_after(limited):
    waits = Waits()
    client = RemedyClient(limited["url"], limited["agent"], sleep=waits)
    _exhaust(limited["url"], limited["agent"])
    assert client.whoami()["role"] == "agent"
    assert len(waits) >= 1 and all(1 <= w <= 2 for w in waits)


def test_429_after_the_last_attempt_raises_with_the_envelope_and_retry_after(limited):
    waits = Waits()
    client = RemedyClient(limited["url"], limited["admin"], max_attempts=1, sleep=waits)
    _exhaust(limited["url"], limited["admin"])
    with pytest.raises(RemedyError) as raised:
        client.whoami()
    assert raised.value.status == 429 and waits == []
    assert raised.value.message.startswith("Too many requests for this key")
    assert int(raised.value.headers["retry-after"]) >= 1


def test_a_wait_longer_than_max_wait_raises_at_once(limited):
    waits = Waits()
    client = RemedyClient(limited["url"], limited["finance"], max_wait=0.1, sleep=waits)
    _exhaust(limited["url"], limited["finance"])
    with pytest.raises(RemedyError) as raised:
        client.whoami()
    assert raised.value.status == 429 and waits == []


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A proxy in front of a dead upstream: 502 with an HTML page."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        """Answer 502 with HTML."""
        page = b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
        self.send_response(502)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def test_a_gateway_page_is_summarised_not_parsed():
    gateway = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=gateway.serve_forever, daemon=True)
    thread.start()
    try:
        client = RemedyClient(f"http://127.0.0.1:{gateway.server_port}", "rmd_x_y")
        with pytest.raises(RemedyError) as raised:
            client.whoami()
    finally:
        gateway.shutdown()
        gateway.server_close()
    assert raised.value.status == 502
    assert raised.value.message == (
        "the server answered 502 Bad Gateway with a text/html body, not the API's JSON"
    )
    assert "<html>" not in str(raised.value)


def test_retry_delay_reads_seconds_and_http_dates_and_backs_off_without_one():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert retry_delay("7", 0) == 7.0
    assert retry_delay(format_datetime(now + timedelta(seconds=30), usegmt=True), 0, now) == 30.0
    assert retry_delay(format_datetime(now - timedelta(seconds=30), usegmt=True), 0, now) == 0.0
    assert [retry_delay(None, n) for n in range(3)] == [0.5, 1.0, 2.0]
    assert retry_delay("soon", 1) == 1.0


def test_money_must_not_be_a_float(service):
    client = RemedyClient(service["url"], service["agent"])
    with pytest.raises(TypeError):
        client.fulfil("d", 12.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RemedyClient(service["url"], service["agent"], max_attempts=0)


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

"""Webhooks with a real local receiver (an http.server thread): subscriptions per team, signed
deliveries from the outbox, retries after a 500, no redirect followed, the delivery log and
redelivery, and a receiver that is down or hangs never slowing an API request."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.webhook_delivery import DeliverySettings, deliver_due, verify
from remedy.store.tables import ApprovalRequest, AuditEntry, WebhookDelivery, utcnow
from tests.factories import decision_row, key_headers, run_jobs, set_pool, store

GIFT = "apology+gift_1x"


class Receiver:
    """A local HTTP receiver: answers each POST with the next status of `statuses` (then
    200), after `delay` seconds, and records what it got."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0) -> None:
        self.statuses = list(statuses or [])
        self.delay = delay
        self.got: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def people(app):
    """Headers by name: emea's agent and lead, apac's lead, finance."""
    set_pool(app, "emea", "20000.00")
    return key_headers(app)


def subscribe(client, headers, url, events=("approval.requested",)):
    answer = client.post("/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def ask_approval(app, client, people) -> tuple[str, float]:
    """A plan above the agent's tier accepted: it waits for a lead; return its id and how long
    the accept took."""
    (decision_id,) = store(app, decision_row({GIFT: ("1500.00", True)}, team="emea"))
    started = time.perf_counter()
    answer = client.post(
        f"/v1/decisions/{decision_id}/accept", json={"plan_id": GIFT}, headers=people("agent")
    )
    took = time.perf_counter() - started
    assert answer.status_code == 200 and answer.json["status"] == "pending_approval", answer.json
    return decision_id, took


def deliver_until(app, predicate, settings: DeliverySettings, seconds: float = 10.0) -> None:
    """Run the worker's delivery pass until `predicate()` holds."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the deliveries did not settle"
        with db.database(app).unit_of_work() as session:
            deliver_due(session, settings)
        time.sleep(0.05)


def deliveries(client, headers, hook_id):
    answer = client.get(f"/v1/webhooks/{hook_id}/deliveries", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json["deliveries"]


def test_delivered_signed_retried_after_a_500_logged_and_redelivered(app, client, people):
    receiver = Receiver(statuses=[500])
    try:
        hook = subscribe(client, people("lead"), receiver.url)
        secret = hook["secret"]
        assert secret.startswith("whsec_") and hook["team"] == "emea"
        listed = client.get("/v1/webhooks", headers=people("lead")).json["webhooks"]
        assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
        assert client.get("/v1/webhooks", headers=people("apac lead")).json["webhooks"] == []
        decision_id, _ = ask_approval(app, client, people)

        settings = DeliverySettings(timeout=2, retry_seconds=0.2, max_attempts=5, allow_private=True)
        deliver_until(app, lambda: len(receiver.got) >= 2, settings)
        (first_headers, first_body), (headers, body) = receiver.got[:2]
        assert first_body == body  # the same event, sent again after the 500
        event = json.loads(body)
        assert event["type"] == "approval.requested" and event["team"] == "emea"
        assert event["data"]["decision_id"] == decision_id and event["data"]["tier"] == "lead"
        assert event["data"]["amount"] == "1500.00" and event["data"]["currency"] == "EUR"
        assert headers["Remedy-Event"] == "approval.requested"
        assert verify(secret, headers["Remedy-Signature"], body)
        assert not verify("whsec_wrong", headers["Remedy-Signature"], body)
        assert not verify(secret, headers["Remedy-Signature"], body + b" ")
        # A replay far from its timestamp is refused by the receiver's check.
        assert not verify(secret, headers["Remedy-Signature"], body, now=time.time() + 3600)

        deliver_until(
            app,
            lambda: deliveries(client, people("lead"), hook["id"])[0]["state"] == "delivered",
            settings,
        )
        (logged,) = deliveries(client, people("lead"), hook["id"])
        assert (logged["attempts"], logged["last_status"]) == (2, 200)
        assert logged["payload"] == event and logged["delivered_at"]

        again = client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{logged['id']}/redeliver",
            headers=people("lead"),
        )
        assert again.status_code == 202 and again.json["redelivery_of"] == logged["id"]
        deliver_until(app, lambda: len(receiver.got) >= 3, settings)
        assert json.loads(receiver.got[2][1])["id"] == event["id"]  # the same event id
        assert (
            client.get(
                f"/v1/webhooks/{hook['id']}/deliveries", headers=people("apac lead")
            ).status_code
            == 404
        )
    finally:
        receiver.close()


def test_a_receiver_that_hangs_or_is_down_never_slows_a_request(app, client, people):
    hanging = Receiver(delay=10.0)  # far longer than any request may take, even under load
    try:
        subscribe(client, people("lead"), hanging.url)
        subscribe(client, people("lead"), "http://127.0.0.1:9/nobody-listens")
        started = time.perf_counter()
        recommended = client.post(
            "/v1/recommendations",
            json={
                "incident": {
                    "customer_id": "c-9",
                    "severity": 3,
                    "fault_type": "company",
                    "customer_value": "900.00",
                    "loss_amount": "40.00",
                    "currency": "EUR",
                },
                "team": "emea",
            },
            headers=people("agent"),
        )
        assert recommended.status_code == 201
        assert time.perf_counter() - started < 5.0
        _, took = ask_approval(app, client, people)
        assert took < 5.0  # the event is a row in the same transaction, nothing is sent
        approve = client.get("/v1/approvals", headers=people("lead"))
        assert approve.status_code == 200
        with db.database(app).unit_of_work() as session:
            queued = session.scalars(sa.select(WebhookDelivery)).all()
            assert [d.state for d in queued] == ["pending", "pending"]
        # The worker's pass is bounded by its timeout, and records each failure for a retry.
        settings = DeliverySettings(timeout=0.5, retry_seconds=60, max_attempts=3, allow_private=True)
        started = time.perf_counter()
        with db.database(app).unit_of_work() as session:
            assert deliver_due(session, settings) == 2
        assert time.perf_counter() - started < 5.0  # bounded by the 0.5 s timeout, not 10 s
        with db.database(app).unit_of_work() as session:
            rows = session.scalars(sa.select(WebhookDelivery)).all()
            for row in rows:
                assert row.state == "pending" and row.attempts == 1 and row.last_error
                assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    finally:
        hanging.close()


def test_a_redirect_is_never_followed_and_attempts_end_in_failed(app, client, people):
    receiver = Receiver(statuses=[302, 302])
    try:
        hook = subscribe(client, people("lead"), receiver.url)
        ask_approval(app, client, people)
        settings = DeliverySettings(timeout=2, retry_seconds=0.05, max_attempts=2, allow_private=True)
        deliver_until(
            app,
            lambda: deliveries(client, people("lead"), hook["id"])[0]["state"] == "failed",
            settings,
        )
        (logged,) = deliveries(client, people("lead"), hook["id"])
        assert logged["attempts"] == 2 and "redirect" in logged["last_error"]
        assert len(receiver.got) == 2  # never the redirect's target
    finally:
        receiver.close()


def test_subscriptions_are_checked_scoped_and_audited(app, client, people):
    lead = people("lead")
    for url in (
        "ftp://example.com/x",
        "file:///etc/passwd",
        "http://user:pw@example.com/",
        "not a url",
    ):
        answer = client.post(
            "/v1/webhooks", json={"url": url, "events": ["promise.broken"]}, headers=lead
        )
        assert answer.status_code == 422 and "url" in answer.json["errors"], url
    unknown = client.post(
        "/v1/webhooks", json={"url": "https://example.com/h", "events": ["nope"]}, headers=lead
    )
    assert unknown.status_code == 422 and "events.0" in unknown.json["errors"]
    assert client.get("/v1/webhooks", headers=people("agent")).status_code == 403
    other = client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/h", "team": "apac", "events": ["promise.broken"]},
        headers=lead,
    )
    assert other.status_code == 403
    hook = subscribe(client, lead, "https://example.com/h", ["promise.broken"])
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=people("apac lead")).status_code == 404
    changed = client.patch(f"/v1/webhooks/{hook['id']}", json={"active": False}, headers=lead)
    assert changed.status_code == 200 and changed.json["active"] is False
    by_finance = client.delete(f"/v1/webhooks/{hook['id']}", headers=people("finance"))
    assert by_finance.status_code == 204
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=lead).status_code == 404
    with db.database(app).unit_of_work() as session:
        entries = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "webhook").order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["create", "update", "delete"]
        assert all(hook["secret"] not in json.dumps([e.before, e.after]) for e in entries)


def test_escalation_broken_promises_and_ready_mass_incidents_are_emitted(app, client, people):
    lead = people("lead")
    hook = subscribe(
        client,
        lead,
        "https://example.com/h",
        ["approval.escalated", "promise.broken", "mass_incident.ready"],
    )
    decision_id, _ = ask_approval(app, client, people)
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(ApprovalRequest).values(requested_at=utcnow() - timedelta(minutes=20))
        )
    run_jobs(app)  # the worker's periodic pass records the escalation
    events = [d["event"] for d in deliveries(client, lead, hook["id"])]
    assert events == ["approval.escalated"]

    # An outcome whose fix came after its promised time breaks the promise.
    recommended = client.post(
        "/v1/recommendations",
        json={
            "incident": {
                "customer_id": "c-3",
                "severity": 3,
                "fault_type": "company",
                "customer_value": "900.00",
                "loss_amount": "40.00",
                "currency": "EUR",
                "reported_at": (utcnow() - timedelta(hours=3)).isoformat(),
            },
            "team": "emea",
        },
        headers=people("agent"),
    ).json
    plan_id = recommended["plans"][0]["plan_id"]
    accepted = client.post(
        f"/v1/decisions/{recommended['decision_id']}/accept",
        json={"plan_id": plan_id},
        headers=people("agent"),
    )
    assert accepted.status_code == 200, accepted.json
    outcome = client.post(
        "/v1/outcomes",
        json={
            "decision_id": recommended["decision_id"],
            "retained": True,
            "observed_at": utcnow().isoformat(),
            "fixed_at": utcnow().isoformat(),
        },
        headers=people("agent"),
    )
    assert outcome.status_code == 201, outcome.json
    logged = deliveries(client, lead, hook["id"])
    assert [d["event"] for d in logged] == ["promise.broken", "approval.escalated"]
    broken = logged[0]["payload"]["data"]
    assert broken["decision_id"] == recommended["decision_id"]
    assert broken["promises"]["fix"]["late_seconds"] > 3600

    declared = client.post(
        "/v1/mass-incidents",
        json={
            "incident": {"severity": 2, "fault_type": "company", "currency": "EUR"},
            "customers": [{"customer_id": "m1", "customer_value": "100.00", "loss_amount": "5.00"}],
        },
        headers=lead,
    )
    assert declared.status_code == 202, declared.json
    run_jobs(app)
    ready = deliveries(client, lead, hook["id"])[0]
    assert ready["event"] == "mass_incident.ready"
    assert ready["payload"]["data"]["mass_incident_id"] == declared.json["id"]
    assert ready["payload"]["data"]["totals"][0]["currency"] == "EUR"


def test_a_paused_webhook_holds_what_was_queued_until_it_resumes(app, client, people):
    receiver = Receiver()
    try:
        hook = subscribe(client, people("lead"), receiver.url)
        ask_approval(app, client, people)  # queued while active
        paused = client.patch(
            f"/v1/webhooks/{hook['id']}", json={"active": False}, headers=people("lead")
        )
        assert paused.status_code == 200 and paused.json["active"] is False
        settings = DeliverySettings(timeout=2, retry_seconds=0.2, max_attempts=5, allow_private=True)
        with db.database(app).unit_of_work() as session:
            assert deliver_due(session, settings) == 0  # nothing sent while paused
        assert receiver.got == []
        (held,) = deliveries(client, people("lead"), hook["id"])
        assert held["state"] == "pending" and held["attempts"] == 0

        resumed = client.patch(
            f"/v1/webhooks/{hook['id']}", json={"active": True}, headers=people("lead")
        )
        assert resumed.status_code == 200
        deliver_until(app, lambda: len(receiver.got) == 1, settings)
        assert json.loads(receiver.got[0][1])["type"] == "approval.requested"
    finally:
        receiver.close()


@pytest.mark.parametrize("app", [{"WEBHOOK_ALLOW_PRIVATE": False}], indirect=True)
def test_a_receiver_on_a_private_address_is_refused_by_default(app, client, people):
    """A lead's URL must not make the worker POST inside the network (request forgery): a
    host resolving to loopback is refused and logged as failed, nothing is sent."""
    receiver = Receiver()
    try:
        hook = subscribe(client, people("lead"), receiver.url.replace("127.0.0.1", "localhost"))
        ask_approval(app, client, people)
        run_jobs(app)  # the worker's pass with the app's settings
        settings = DeliverySettings.of(app.config)
        assert settings.allow_private is False
        for _ in range(3):
            with db.database(app).unit_of_work() as session:
                session.execute(sa.update(WebhookDelivery).values(next_attempt_at=utcnow()))
            with db.database(app).unit_of_work() as session:
                deliver_due(session, DeliverySettings(timeout=2, retry_seconds=0, max_attempts=3))
        assert receiver.got == []
        (logged,) = deliveries(client, people("lead"), hook["id"])
        assert logged["state"] == "failed" and logged["last_status"] is None
        assert "not a public address" in logged["last_error"], logged
        assert "127.0.0.1" in logged["last_error"] or "::1" in logged["last_error"]
    finally:
        receiver.close()

"""RemedyClient's retries against the real service: a lost answer is retried with the same
generated key (a recommendation is not repeated), 429 after its `Retry-After` (a server limited
to a few requests per second provokes real ones), a gateway's page is summarised. The sleep the
client is given records each wait and then really waits, so a retry meets a fresh rate-limit
window.
"""

from __future__ import annotations

import http.server
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from remedy.client import RemedyClient, RemedyError, retry_delay
from tests.client.incidents import SIMPLE


class Waits(list):
    """A sleep for the client: remembers each wait, then waits it."""

    def __call__(self, seconds: float) -> None:
        """Record and sleep."""
        self.append(seconds)
        time.sleep(seconds)


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

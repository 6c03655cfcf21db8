"""Bodies are read against a deadline under gunicorn alone (no front), as docs/deployment.md's
gunicorn command runs it (the hardening issue, finding 1: "incomplete bodies hold a thread as
long as the client waits"). A client that sends half a body and stalls, or trickles it a byte
at a time, gets 408 in the envelope and a closed connection once REMEDY_BODY_DEADLINE passes;
its thread is free again, and /healthz answers meanwhile."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.driving import Drained, free_port, run, server_log, wait_for
from tests.conftest import throwaway_postgres

DEADLINE = 2.0
THREADS = 3
# How late past the deadline an answer may come on a loaded two-core machine.
MARGIN = 3.0
BODY = json.dumps(
    {
        "incident": {
            "customer_id": "c-deadline",
            "severity": 3,
            "fault_type": "company",
            "customer_value": "1200.00",
            "loss_amount": "60.00",
            "currency": "EUR",
        }
    }
).encode()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def gunicorn(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str]]:
    """gunicorn started directly (docs/deployment.md, "gunicorn"): one worker of 3 threads."""
    folder = tmp_path_factory.mktemp("deadline")
    (folder / "metrics").mkdir()
    with contextlib.ExitStack() as stack:
        # A database of its own: the session's PostgreSQL database is emptied by other tests
        # while this module's server runs.
        url = (
            f"sqlite:///{folder / 'serve.sqlite'}"
            if request.param == "sqlite"
            else stack.enter_context(throwaway_postgres())
        )
        yield from _served(url, folder)


def _served(url: str, folder: Path) -> Iterator[tuple[int, str]]:
    """Initialise `url`, serve it with gunicorn alone, and yield its port and an admin key."""
    env = {
        "REMEDY_DATABASE_URL": url,
        "REMEDY_INSTANCE_PATH": str(folder / "instance"),
        "REMEDY_BODY_DEADLINE": str(DEADLINE),
        "REMEDY_RATE_LIMIT": "",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
    }
    admin = run(env, "init").output.split("keep it safe): ")[1].split()[0]
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        + ["--worker-class", "gthread", "--workers", "1", "--threads", str(THREADS)]
        + ["--keep-alive", "75", "--timeout", "30", "--no-control-socket"]
        + ["remedy:create_app()"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.log = Drained(process.stderr)  # type: ignore[attr-defined]
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield port, admin
    finally:
        process.terminate()
        process.wait(timeout=30)
        server_log(process)


def head(key: str, length: int) -> bytes:
    """A recommendation's request head announcing a body of `length` bytes."""
    return (
        b"POST /v1/recommendations HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


class Stalled(threading.Thread):
    """A client that sends the head and half the body, then stalls (or, `trickle`, sends one
    more byte every 0.3 s, which no timeout per read would ever end); records the answer, when
    it came and whether the server closed the connection."""

    def __init__(self, port: int, key: str, trickle: bool = False) -> None:
        super().__init__(daemon=True)
        self.port, self.key, self.trickle = port, key, trickle
        self.answer = b""
        self.closed = False
        self.took = float("inf")
        self.sent = threading.Event()

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as connection:
            started = time.monotonic()
            connection.sendall(head(self.key, len(BODY)) + BODY[: len(BODY) // 2])
            self.sent.set()
            if self.trickle:
                connection.settimeout(0.3)
                for byte in BODY[len(BODY) // 2 : -1]:
                    try:
                        connection.sendall(bytes([byte]))
                        self.answer += connection.recv(65536)
                        break  # answered while trickling
                    except TimeoutError:
                        continue  # no answer yet: one more byte
                    except OSError:
                        break
                connection.settimeout(30)
            try:
                while chunk := connection.recv(65536):
                    self.answer += chunk
                self.closed = True
            except ConnectionResetError:
                self.closed = True
            self.took = time.monotonic() - started


def healthz(port: int) -> float:
    """Seconds /healthz took on a fresh connection (it must answer 200)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return time.monotonic() - started


def assert_cut_at_the_deadline(client: Stalled) -> None:
    """408 in the envelope, closed, no sooner than the deadline and not much later."""
    status, _, rest = client.answer.partition(b"\r\n")
    assert status.startswith(b"HTTP/1.1 408 "), client.answer[:300]
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    envelope = json.loads(body)
    assert envelope["code"] == 408 and "did not arrive within 2 s" in envelope["message"]
    assert client.closed
    assert DEADLINE - 0.2 <= client.took <= DEADLINE + MARGIN, f"cut after {client.took:.2f} s"


def test_a_whole_body_is_served(gunicorn):
    port, key = gunicorn
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head(key, len(BODY)) + BODY)
        assert connection.recv(65536).startswith(b"HTTP/1.1 201")


def test_a_stalled_and_a_trickled_body_are_cut_at_the_deadline_and_health_answers(gunicorn):
    port, key = gunicorn
    clients = [Stalled(port, key), Stalled(port, key, trickle=True)]
    for client in clients:
        client.start()
        client.sent.wait(10)
    time.sleep(0.3)  # both are in a request thread, reading their body
    assert healthz(port) < 1.0  # the third thread answers meanwhile
    for client in clients:
        client.join(DEADLINE + MARGIN + 5)
        assert_cut_at_the_deadline(client)


def test_bodies_stalled_on_every_thread_free_them_within_the_deadline(gunicorn):
    """Every thread held by a stalled body: health waits at most for the deadline."""
    port, key = gunicorn
    clients = [Stalled(port, key) for _ in range(THREADS)]
    for client in clients:
        client.start()
        client.sent.wait(10)
    time.sleep(0.3)
    took = healthz(port)
    assert took <= DEADLINE + MARGIN, f"/healthz waited {took:.2f} s for a thread"
    for client in clients:
        client.join(DEADLINE + MARGIN + 5)
        assert_cut_at_the_deadline(client)
    assert healthz(port) < 1.0  # and the service is whole again

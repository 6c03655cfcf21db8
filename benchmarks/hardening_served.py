"""The findings of the hardening issue that need sockets (benchmarks/hardening.py runs them):
`remedy serve` with its nginx front and with gunicorn alone (`--front none`), on the database
the run set up, and a database server that accepts connections and never answers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.hardening import INCIDENT, Finding
from benchmarks.hardening import timed as timed_call
from benchmarks.slow_clients import SlowClients, timed
from remedy import create_app
from remedy.extensions import db

SLOW = 24  # the probe's count: 24 connections, one header line each few seconds
BOUND = 1.0  # seconds health and a recommendation may take meanwhile


def start(env: dict[str, str], front: str) -> tuple[subprocess.Popen, int]:
    """`remedy serve --front front` on a free port; returns once /healthz answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "remedy.cli", "serve", "--port", str(port), "--front", front]
        + ["--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while timed(port, "GET", "/healthz", timeout=1)[0] != 200:
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"remedy serve --front {front} did not start")
        time.sleep(0.2)
    return process, port


def admin_key(env: dict[str, str]) -> str:
    """A new admin key for the served probes."""
    made = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "remedy.cli", "keys", "create", "--role", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.strip()


def exchange(port: int, request: bytes, then: bytes = b"") -> tuple[bytes, bool]:
    """Send raw bytes (and `then` right after); return everything answered and whether the
    server closed the connection (EOF within 10 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request + then)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
            return answer, True
        except TimeoutError:
            return answer, False
        except ConnectionResetError:
            return answer, False


def post(key: str, body: bytes, *extra: bytes) -> bytes:
    head = [
        b"POST /v1/recommendations HTTP/1.1",
        b"Host: probe",
        b"Authorization: Bearer " + key.encode(),
        b"Content-Type: application/json",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def slow_clients(port: int, key: str) -> Finding:
    """1a. 24 connections dribbling header lines, with the front."""
    slow = SlowClients(port, SLOW, interval=1.0).start()
    try:
        time.sleep(2)
        health = timed(port, "GET", "/healthz", timeout=60)
        recommendation = timed(port, "POST", "/v1/recommendations", key, timeout=60)
        held = slow.still_open()
    finally:
        slow.close()
    return Finding(
        "1a",
        f"{SLOW} connections sending a header line a second (front)",
        f"{held} held open; /healthz {health[0]} in {health[1] * 1000:.0f} ms, a recommendation "
        f"{recommendation[0]} in {recommendation[1] * 1000:.0f} ms (was: /healthz timed out 40 s)",
        health[0] == 200
        and health[1] < BOUND
        and recommendation[0] == 201
        and recommendation[1] < BOUND,
    )


def stalled_bodies(port: int, key: str, front: str, threads: int) -> Finding:
    """1b. As many bodies sent half-way then stalled as gunicorn has threads.

    Behind the front none reaches gunicorn (nginx cuts them at its body timeout, 10 s). With
    gunicorn alone each holds a thread until REMEDY_BODY_DEADLINE (5 s) from when it got one;
    a body that waited for a thread (the kernel spreads connections over the workers unevenly)
    gets its own deadline from then, so all are cut within two deadlines.
    """
    deadline = float(os.environ.get("REMEDY_BODY_DEADLINE", "5"))
    sockets = []
    started = time.monotonic()
    for _ in range(threads):
        connection = socket.create_connection(("127.0.0.1", port), timeout=60)
        connection.sendall(post(key, b'{"incident": ', b"Content-Length: 1000"))
        sockets.append(connection)
    time.sleep(0.5)
    health = timed(port, "GET", "/healthz", timeout=60)
    answers, cut = [], 0.0
    for connection in sockets:
        try:
            answer = connection.recv(65536)  # gunicorn's 408, or the front's reset
        except ConnectionResetError:
            answer = b""
        answers.append(answer.split(b" ")[1].decode() if answer else "reset")
        cut = time.monotonic() - started  # when the last so far was cut: the latest at the end
        connection.close()
    bound = 10.0 + 1 if front == "nginx" else 2 * deadline + 1
    return Finding(
        "1b",
        f"{threads} bodies stalled half-way ({front})",
        f"/healthz {health[0]} in {health[1] * 1000:.0f} ms; the stalled bodies answered "
        f"{sorted(set(answers))}, the last cut after {cut:.1f} s"
        + ("" if front == "nginx" else f" (REMEDY_BODY_DEADLINE {deadline:g} s)"),
        health[0] == 200 and health[1] < bound and cut < bound,
    )


def job_worker(process: subprocess.Popen, port: int) -> Finding:
    """5. Kill `remedy serve`'s job worker with -9."""

    def workers() -> list[int]:
        found = []
        for child in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            if b"worker" in cmdline:
                found.append(int(child))
        return found

    (first,) = workers()
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    while not [w for w in workers() if w != first] and time.monotonic() - killed < 60:
        time.sleep(0.1)
    restarted = time.monotonic() - killed
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /readyz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status = answer.split(b" ")[1].decode()
    queue = json.loads(answer.partition(b"\r\n\r\n")[2]).get("queue")
    return Finding(
        "5",
        "`remedy serve`'s job worker killed with -9",
        f"restarted after {restarted:.1f} s; /readyz {status}, queue {queue} (a killed job's "
        "reclaim: tests/cli/test_job_worker_kill.py)",
        restarted < 5 and status == "200" and process.poll() is None,
    )


def chunking(port: int, key: str, front: str) -> Finding:
    """6c. A malformed chunk size."""
    answer, closed = exchange(
        port, post(key, b"ZZ\r\n{}\r\n0\r\n\r\n", b"Transfer-Encoding: chunked")
    )
    status = answer.split(b" ")[1].decode() if answer else "nothing"
    return Finding(
        "6c",
        f"a malformed chunk size ({front})",
        f"{status}, closed: {closed} (was 500, gunicorn's InvalidChunkSize)",
        status == "400" and closed,
    )


def too_large(port: int, key: str, front: str) -> Finding:
    """10b. A 413, and whether the connection says close and closes (or, behind the front,
    stays usable)."""
    big = b'{"a": "' + b"x" * (100 * 1024) + b'"}'
    health = b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
    answer, closed = exchange(port, post(key, big, b"Content-Length: %d" % len(big)), health)
    head = answer.partition(b"\r\n\r\n")[0].lower()
    first = answer.split(b" ")[1].decode() if answer else "nothing"
    says_close = b"connection: close" in head
    next_answered = answer.count(b"HTTP/1.1 200") == 1
    fixed = first == "413" and (next_answered if front == "nginx" else says_close and closed)
    return Finding(
        "10b",
        f"a 413 ({front})",
        f"{first}, says close: {says_close}, closed: {closed}, the next request on it answered: "
        f"{next_answered} (was keep-alive, then dropped)",
        fixed,
    )


def script_name(port: int, front: str) -> Finding:
    """10c. SCRIPT_NAME and X-Forwarded-* from a loopback client."""
    answer, _ = exchange(
        port,
        b"GET /console/ HTTP/1.1\r\nHost: probe\r\nSCRIPT_NAME: /evil\r\n"
        b"X-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n",
    )
    leaked = b"/evil" in answer or b"evil.example" in answer
    return Finding(
        "10c",
        f"SCRIPT_NAME and X-Forwarded-Host from the client ({front})",
        f"console root rewritten: {leaked}",
        answer.startswith(b"HTTP/1.1 200") and not leaked,
    )


def hung_database(folder: Path) -> Finding:
    """7. A database that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # the kernel completes handshakes; nobody ever reads
    url = f"postgresql+psycopg://remedy@127.0.0.1:{listener.getsockname()[1]}/remedy"
    try:
        app = create_app(
            {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}, instance_path=str(folder / "hung")
        )
        client = app.test_client()
        answer, ms = timed_call(
            client.post,
            "/v1/recommendations",
            json={"incident": INCIDENT},
            headers={"Authorization": "Bearer rmd_abc_def"},
        )
        ready, ready_ms = timed_call(client.get, "/readyz")
        health, health_ms = timed_call(client.get, "/healthz")
        db.database(app).dispose()
    finally:
        listener.close()
    return Finding(
        "7",
        "a database that accepts and never answers",
        f"recommendation {answer.status_code} (Retry-After {answer.headers.get('Retry-After')}) "
        f"in {ms / 1000:.1f} s (was ~130 s); /readyz {ready.status_code} in "
        f"{ready_ms / 1000:.1f} s; /healthz {health.status_code} in {health_ms:.0f} ms",
        answer.status_code == 503
        and ms < 5000
        and ready.status_code == 503
        and health.status_code == 200,
    )


def served(env: dict[str, str]) -> list[Finding]:
    """The served findings, with the front and with gunicorn alone."""
    # remedy serve's defaults, with --workers 2: 4 threads each on SQLite, 8 on PostgreSQL.
    threads = 2 * (4 if env["REMEDY_DATABASE_URL"].startswith("sqlite") else 8)
    key = admin_key(env)
    findings = []
    for front in ("nginx", "none"):
        process, port = start(env, front)
        try:
            timed(port, "POST", "/v1/recommendations", key)  # caches warm
            if front == "nginx":
                findings.append(slow_clients(port, key))
            findings.append(stalled_bodies(port, key, front, threads))
            findings.append(chunking(port, key, front))
            findings.append(too_large(port, key, front))
            findings.append(script_name(port, front))
            if front == "nginx":
                findings.append(job_worker(process, port))
        finally:
            process.terminate()
            process.wait(timeout=60)
    return findings

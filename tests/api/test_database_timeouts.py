"""A database that hangs costs a bounded wait: connect, statement and pool timeouts end in 503
with Retry-After within 5 s, and health answers throughout (the hardening issue, finding 7).

The hung database is real: a TCP socket this test listens on and never accepts from, so the
kernel completes every connection and nothing ever answers PostgreSQL's startup message.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from remedy import create_app
from remedy.extensions import db
from tests.cli.driving import server_log, start_serve, wait_for
from tests.conftest import incident_payload
from tests.factories import default_document

BOUND = 5.0  # seconds a hung database may hold a request, at most


@pytest.fixture
def hung_database() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)  # the kernel completes handshakes; nobody ever reads
    port = listener.getsockname()[1]
    try:
        yield f"postgresql+psycopg://remedy@127.0.0.1:{port}/remedy"
    finally:
        listener.close()


def test_a_hung_database_is_503_with_retry_after_within_the_bound(hung_database, tmp_path):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": hung_database, "DATABASE_CONNECT_TIMEOUT": 2},
        instance_path=str(tmp_path / "instance"),
    )
    client = app.test_client()
    started = time.monotonic()
    response = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload()},
        headers={"Authorization": "Bearer rmd_abc_def"},
    )
    waited = time.monotonic() - started
    assert response.status_code == 503, response.json
    assert response.headers["Retry-After"] == "5" and response.json["code"] == 503
    assert waited < BOUND, f"waited {waited:.1f} s for a hung database"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["errors"] == {"database": ["down"]}
    assert client.get("/healthz").status_code == 200  # liveness never asks the database
    db.database(app).dispose()


@pytest.mark.parametrize(
    "app", [{"DATABASE_POOL_SIZE": 1, "DATABASE_POOL_TIMEOUT": 0.5}], indirect=True
)
def test_no_free_connection_is_503_after_the_pool_timeout(app, client, auth):
    engine = db.database(app).engine
    held = [engine.connect(), engine.connect()]  # the pool (1) and its overflow (1)
    try:
        started = time.monotonic()
        response = client.get("/v1/budgets", headers=auth("finance"))
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert time.monotonic() - started < BOUND
    finally:
        for connection in held:
            connection.close()
    assert client.get("/v1/budgets", headers=auth("finance")).status_code == 200


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("app", [{"DATABASE_STATEMENT_TIMEOUT_MS": 500}], indirect=True)
def test_a_statement_stuck_behind_a_lock_is_cancelled_and_503(app, client, auth, database_url):
    """Every configuration write bumps the cache generation's one row: hold its lock from
    another connection and the write waits on the server until statement_timeout cancels it."""
    body = default_document("rules")
    other = sa.create_engine(database_url)
    with other.connect() as blocker:
        blocker.execute(sa.text("UPDATE cache_generation SET value = value WHERE id = 1"))
        started = time.monotonic()
        response = client.put("/v1/rules", json=body, headers=auth("admin"))
        waited = time.monotonic() - started
        blocker.rollback()
    other.dispose()
    assert response.status_code == 503, response.json
    assert response.headers["Retry-After"] == "5" and waited < BOUND
    assert client.put("/v1/rules", json=body, headers=auth("admin")).status_code == 200


def test_under_gunicorn_a_hung_database_answers_503_and_health_stays_up(
    hung_database, tmp_path: Path
):
    env = {
        "REMEDY_DATABASE_URL": hung_database,
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
        "REMEDY_DATABASE_CONNECT_TIMEOUT": "2",
    }
    process, port = start_serve(env, workers=1)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz", process)

        def recommend() -> tuple[int, str | None, float]:
            request = urllib.request.Request(  # noqa: S310 - local test server
                f"{base}/v1/recommendations",
                data=json.dumps({"incident": incident_payload()}).encode(),
                headers={"Authorization": "Bearer rmd_a_b", "Content-Type": "application/json"},
            )
            started = time.monotonic()
            try:
                urllib.request.urlopen(request, timeout=30)  # noqa: S310 - local test server
                status, retry = 200, None
            except urllib.error.HTTPError as error:
                status, retry = error.code, error.headers.get("Retry-After")
            return status, retry, time.monotonic() - started

        def health() -> float:
            started = time.monotonic()
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as answer:  # noqa: S310
                assert answer.status == 200
            return time.monotonic() - started

        with ThreadPoolExecutor(8) as pool:
            hung = [pool.submit(recommend) for _ in range(6)]
            healths = [pool.submit(health) for _ in range(2)]
            answers = [future.result() for future in hung]
            health_times = [future.result() for future in healths]
    finally:
        process.terminate()
        process.wait(timeout=30)
        log = server_log(process)
    for status, retry, waited in answers:
        assert (status, retry) == (503, "5"), log
        assert waited < BOUND, f"a request waited {waited:.1f} s"
    assert max(health_times) < BOUND

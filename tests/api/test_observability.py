"""Request ids, JSON access logs, metrics, readiness, and 503 when the database is down."""

import json
import logging

import pytest

from remedy import create_app
from remedy.observability import JsonFormatter
from tests.conftest import incident_payload


class Capture(logging.Handler):
    """Keep formatted records."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_lines():
    handler = Capture()
    logger = logging.getLogger("remedy.access")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


@pytest.mark.parametrize("app", [{"LOG_LEVEL": "INFO"}], indirect=True)
def test_request_id_is_echoed_or_made_and_logged(client, auth, access_lines):
    response = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    made = client.post(
        "/v1/recommendations", json={"incident": incident_payload()}, headers=auth()
    ).headers["X-Request-Id"]
    assert len(made) == 32
    bad = client.get("/healthz", headers={"X-Request-Id": "no spaces allowed!"})
    assert bad.headers["X-Request-Id"] != "no spaces allowed!"
    line = next(entry for entry in access_lines if entry["request_id"] == made)
    assert line["path"] == "/v1/recommendations" and line["status"] == 201
    assert line["principal"] and line["duration_ms"] > 0


def test_metrics_need_an_admin_key_and_count_decisions(client, auth):
    client.post("/v1/recommendations", json={"incident": incident_payload()}, headers=auth())
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("agent")).status_code == 403
    text = client.get("/metrics", headers=auth("admin")).get_data(as_text=True)
    assert 'remedy_decisions_total{explored="no"}' in text
    assert "remedy_request_seconds_bucket{" in text and 'route="/v1/recommendations"' in text


def test_readyz_reports_database_and_model(client):
    body = client.get("/readyz").json
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "model": "heuristic-prior-1", "jobs": "ok"},
        "queue": {"queued": 0, "oldest_queued_seconds": None, "stale_leases": 0, "workers_seen": 0},
    }


def test_database_down_gives_503_with_retry_after(tmp_path):
    # A PostgreSQL URL on a port where nothing listens: every query fails to connect.
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=1",
        }
    )
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    response = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload()},
        headers={"Authorization": "Bearer rmd_x_y"},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["code"] == 503


@pytest.mark.parametrize("app", [{"RATE_LIMIT": "3/minute"}], indirect=True)
def test_rate_limit_per_key_answers_429_with_retry_after(client, auth):
    for _ in range(3):
        assert client.get("/v1/caps", headers=auth("agent")).status_code == 200
    limited = client.get("/v1/caps", headers=auth("agent"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json["code"] == 429 and "retry later" in limited.json["message"]
    # another key has its own budget; health is never limited
    assert client.get("/v1/caps", headers=auth("finance")).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(5))


def test_metrics_count_accepts_and_spend_by_pool(app, client, auth):
    from tests.factories import set_pool

    set_pool(app, "emea", "5000.00")
    body = client.post(
        "/v1/recommendations", json={"incident": incident_payload(), "team": "emea"}, headers=auth()
    ).json
    plan = next(p for p in body["plans"] if not p["requires_approval"])
    path = f"/v1/decisions/{body['decision_id']}"
    assert (
        client.post(f"{path}/accept", json={"plan_id": plan["plan_id"]}, headers=auth()).status_code
        == 200
    )
    fulfilled = client.post(
        f"{path}/fulfil", json={"actual_cost": plan["total_cost"]}, headers=auth()
    )
    assert fulfilled.status_code == 200, fulfilled.json
    text = client.get("/metrics", headers=auth("admin")).get_data(as_text=True)
    assert "remedy_accepts_total " in text
    pool = fulfilled.json["reservation"]["pool"]
    line = next(
        row
        for row in text.splitlines()
        if row.startswith("remedy_spend_minor_total{") and pool in row and '"EUR"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) >= float(plan["total_cost"]) * 100


def redis_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_rate_limits_can_be_shared_through_redis(database_url, tmp_path):
    """Two app instances (two workers) share one key's limit when counters live in Redis."""
    import uuid

    from remedy.extensions import db
    from remedy.services.configs import ConfigService
    from remedy.services.keys import KeyService

    settings = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        # a limit unique to this run, so earlier runs' counters do not interfere
        "RATE_LIMIT": f"{3 + uuid.uuid4().int % 1000}/hour",
        "RATE_LIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
    }
    first, second = create_app(settings), create_app(settings)
    try:
        with db.database(first).unit_of_work() as session:
            ConfigService(session).seed_defaults()
            token, _ = KeyService(session).create("agent", label=uuid.uuid4().hex)
        headers = {"Authorization": f"Bearer {token}"}
        limit = int(settings["RATE_LIMIT"].split("/")[0])
        answers = [
            (first if i % 2 else second).test_client().get("/v1/caps", headers=headers)
            for i in range(limit + 1)
        ]
        assert [a.status_code for a in answers[:limit]] == [200] * limit
        assert answers[limit].status_code == 429
    finally:
        db.database(first).dispose()
        db.database(second).dispose()


@pytest.mark.parametrize("app", [{"RATE_LIMIT": "2/minute;100/hour"}], indirect=True)
def test_rate_limits_count_per_route_and_every_limit_holds(client, auth):
    """Each route has its own count (as Flask-Limiter's default limits had), several limits
    in its syntax all count, and the 429 names the one exceeded with its window."""
    assert [client.get("/v1/caps", headers=auth("agent")).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    limited = client.get("/v1/caps", headers=auth("agent"))
    assert "2 per 1 minute" in limited.json["message"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 61
    assert client.get("/v1/whoami", headers=auth("agent")).status_code == 200

"""Per-worker caches never outlive a change: two server processes on one database, a change made
through one, and the very next request to the other sees it (remedy/store/generation.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from remedy.cli.serve import gunicorn_options
from remedy.extensions import db
from remedy.services.keys import KeyService
from remedy.services.model_registry import seed_bundled
from tests.cli.driving import free_port, wait_for
from tests.conftest import incident_payload
from tests.factories import default_document

ROOT = Path(__file__).resolve().parents[2]


def call(base: str, method: str, path: str, key: str, body: Any = None) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - a local test server
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def servers(app, database_url: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two gunicorn servers (one gthread worker each, as `remedy serve` runs them) on the app's
    database; yields their base URLs."""
    with db.database(app).unit_of_work() as session:
        seed_bundled(session, Path(app.config["MODEL_DIR"]) / "cache")  # promotes sim-4
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": database_url,
        "REMEDY_MODEL_DIR": app.config["MODEL_DIR"],
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
        "REMEDY_RATE_LIMIT": "",
        "REMEDY_LOG_LEVEL": "WARNING",
        "REMEDY_DATABASE_POOL_SIZE": "2",
    }
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
                + gunicorn_options(workers=1, threads=2)
                + ["remedy:create_app()"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            processes.append(process)
            wait_for(f"http://127.0.0.1:{port}/healthz", process, timeout=60)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
            process.stderr.close()


def recommend(base: str, key: str) -> dict[str, Any]:
    """One recommendation; its versions."""
    status, answer = call(
        base, "POST", "/v1/recommendations", key, {"incident": incident_payload()}
    )
    assert status == 201, answer
    return answer["versions"]


def test_revocation_promotion_and_new_caps_reach_the_other_process_at_once(app, servers):
    first, second = servers
    with db.database(app).unit_of_work() as session:
        agent, row = KeyService(session).create("agent", label="to revoke")
        admin, _ = KeyService(session).create("admin", label="admin")
        finance, _ = KeyService(session).create("finance", label="finance")
        prefix = row.prefix
    for base in servers:  # both processes cache the key, the versions and the model
        assert call(base, "GET", "/v1/whoami", agent)[0] == 200
        assert recommend(base, agent)["model"] == "sim-4"
        assert call(base, "GET", "/v1/whoami", agent)[0] == 200

    status, _ = call(first, "POST", f"/v1/keys/{prefix}/revoke", admin)
    assert status == 200
    status, answer = call(second, "GET", "/v1/whoami", agent)
    assert status == 401 and answer["message"] == "The API key is unknown or revoked."
    assert call(first, "GET", "/v1/whoami", agent)[0] == 401

    status, _ = call(first, "POST", "/v1/models/sim-2/promote", admin, {"reason": "test"})
    assert status == 200
    assert recommend(second, admin)["model"] == "sim-2"
    assert recommend(first, admin)["model"] == "sim-2"

    caps_before = recommend(second, admin)["caps"]
    status, _ = call(first, "PUT", "/v1/caps", finance, default_document("caps"))
    assert status in (200, 201)
    assert int(recommend(second, admin)["caps"]) == int(caps_before) + 1

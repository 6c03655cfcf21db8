"""Worker processes for the race tests: each builds its own app, engine and connections.

They run in separate OS processes (multiprocessing's forkserver), so they contend on the
database exactly as gunicorn workers do: only the database's locks keep them apart.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from remedy import create_app
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService

Job = tuple[str, str, str | None]  # decision id, plan id, idempotency key


def fire_accepts(
    url: str, token: str, jobs: list[Job], barrier: Any, results: Any, progress: Any = None
) -> None:
    """POST .../accept for every job once the barrier opens; put [(id, status, body)]."""
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/v1/budgets", headers=headers)  # connect and build the engine before the start
    barrier.wait()
    answers = []
    for decision_id, plan_id, key in jobs:
        request_headers = dict(headers)
        if key is not None:
            request_headers["Idempotency-Key"] = key
        response = client.post(
            f"/v1/decisions/{decision_id}/accept",
            json={"plan_id": plan_id},
            headers=request_headers,
        )
        answers.append((decision_id, response.status_code, response.get_json()))
        if progress is not None:
            progress.put(decision_id)
    results.put(answers)
    db.database(app).dispose()


def accept_and_hold(url: str, decision_id: str, plan_id: str, holding: Any) -> None:
    """Accept inside a transaction, say so, and hold its locks until this process is killed."""
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        session = db.database(app).sessions()
        caps = app_services.engines(app).engine(session).caps
        service = LifecycleService(session, caps, timedelta(hours=1))
        service.begin()
        service.accept(decision_id, plan_id, "victim")
        session.flush()  # the entry and the counters are written, not committed
        holding.set()
        threading.Event().wait()  # until SIGKILL


Step = tuple[str, str, str, dict[str, Any]]  # decision id, step, key, body


def fire_steps(url: str, jobs: list[Step], barrier: Any, results: Any) -> None:
    """POST .../<step> for every job once the barrier opens; put [(id, step, status)]."""
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    client = app.test_client()
    for _, _, token, _ in jobs[:1]:
        client.get("/v1/budgets", headers={"Authorization": f"Bearer {token}"})  # warm up
    barrier.wait()
    answers = []
    for decision_id, step, token, body in jobs:
        response = client.post(
            f"/v1/decisions/{decision_id}/{step}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        answers.append((decision_id, step, response.status_code))
    results.put(answers)
    db.database(app).dispose()

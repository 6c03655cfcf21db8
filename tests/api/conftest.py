"""Fixtures several modules of the API tests share: a sender bounded in CPU for hostile input
(test_hostile_input.py, test_hostile_bodies.py; test_hostile_fuzz.py keeps a stricter one of
its own), the 100.00 EUR pool the lifecycle tests spend from (test_lifecycle.py,
test_lifecycle_requests.py), and the seeded month of the report tests (test_audit_report.py,
test_report_rollup.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.api.hostile import CPU_BOUND
from tests.api.report_month import seed_month
from tests.factories import set_pool


@pytest.fixture
def send(client, auth):
    """Send a request as a role; assert it took less than CPU_BOUND of CPU; return it."""

    def call(method: str, path: str, body: Any = None, role: str = "agent", **kwargs: Any):
        headers = {**auth(role), **kwargs.pop("headers", {})}
        started = time.process_time()
        response = client.open(path, method=method, json=body, headers=headers, **kwargs)
        spent = time.process_time() - started
        assert spent < CPU_BOUND, f"{method} {path} held the worker for {spent:.2f} s of CPU"
        return response

    return call


@pytest.fixture
def pooled(app):
    """A 100.00 EUR monthly pool for emea."""
    set_pool(app, "emea", "100.00")
    return app


@pytest.fixture
def month(app):
    """A seeded November (tests/api/report_month.py); the headers of a lead of emea and apac."""
    return seed_month(app)

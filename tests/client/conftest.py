"""The client tests' service: `remedy serve` (gunicorn) on a seeded SQLite file, without rate
limits (`service`, started once for the package: the modules that use it shared one server as
the single module they were split from did), and with a limit of a few requests per second to
provoke real 429s with `Retry-After` (`limited`, for test_client_retries.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.driving import run, start_serve, wait_for


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


@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """remedy serve without rate limits."""
    yield from _serve(tmp_path_factory.mktemp("client"), "")


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """remedy serve with 3 requests per second per key."""
    yield from _serve(tmp_path_factory.mktemp("limited"), "3/second")

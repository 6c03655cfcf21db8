"""The CLI tests' database: a fresh SQLite file per test (a module that needs more, such as
test_worker.py or test_experiment_cli.py, has an `env` of its own)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Point the CLI at a fresh SQLite file."""
    return {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}

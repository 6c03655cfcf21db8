"""`remedy models experiment`: start (only a version that passed the offline gate), status,
check (what the worker does every 5 minutes) and stop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from remedy import create_app
from remedy.cli import cli
from remedy.extensions import db
from remedy.services.experiments import ExperimentService
from remedy.services.model_registry import ModelRegistry, bundled_folders


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite file, initialised, with a version that passed the gate registered."""
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}",
        "REMEDY_MODEL_DIR": str(tmp_path / "models"),
    }
    assert run(env, "init").exit_code == 0
    target = tmp_path / "sim-4-next"
    shutil.copytree(bundled_folders()[-1], target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = "sim-4-next"
    card["metrics"]["gate"]["verdict"] = {"passed": True, "reason": "better: test"}
    (target / "card.json").write_text(json.dumps(card))
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"], "MODEL_DIR": str(tmp_path)})
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).register(target, "test")
    db.database(app).dispose()
    return env


def run(env: dict[str, str], *args: str):
    """Invoke the CLI in-process and return the result."""
    return CliRunner().invoke(cli, list(args), env=env)


def test_start_status_check_stop(env):
    refused = run(env, "models", "experiment", "start", "sim-3", "--share", "0.2")
    assert refused.exit_code == 1 and "has not passed the offline gate" in refused.output
    bad = run(env, "models", "experiment", "start", "sim-4-next", "--share", "lots")
    assert bad.exit_code == 2 and "--share" in bad.output
    assert "no experiment is running" in run(env, "models", "experiment", "check").output

    started = run(env, "models", "experiment", "start", "sim-4-next", "--share", "0.2")
    assert started.exit_code == 0, started.output
    experiment_id = started.output.split()[2].rstrip(":")
    again = run(env, "models", "experiment", "start", "sim-4-next", "--share", "0.3")
    assert again.exit_code == 1 and "is running" in again.output

    checked = run(env, "models", "experiment", "check").output
    assert f"experiment {experiment_id}: continue" in checked and "too few" in checked
    status = run(env, "models", "experiment", "status").output
    assert experiment_id in status and "running" in status and "sim-4-next vs sim-4" in status

    stopped = run(env, "models", "experiment", "stop", experiment_id, "--reason", "done")
    assert stopped.exit_code == 0 and f"stopped {experiment_id}" in stopped.output
    twice = run(env, "models", "experiment", "stop", experiment_id)
    assert twice.exit_code == 1 and "has ended already" in twice.output
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    with db.database(app).unit_of_work() as session:
        row = ExperimentService(session).get(experiment_id)
        assert (row.state, row.ended_by, row.end_reason) == ("stopped", "cli", "done")
        assert len(ExperimentService(session).checks(experiment_id)) == 1
    db.database(app).dispose()

"""Retraining from what the service logged: simulate through the service, train, evaluate."""

import json

import pytest
from click.testing import CliRunner

from models.artifact import load_artifact
from remedy.cli import cli
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from remedy.extensions import db
from remedy.store.tables import Outcome
from tests.conftest import row_count
from training.drive import drive
from training.from_logs import load_logged, promotion_verdict, train_from_logs

EXPLORING = {"EXPLORATION_RATE": __import__("decimal").Decimal("0.5"), "EXPLORATION_TOP_K": 3}


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_simulated_traffic_trains_a_model_with_holdout_and_policy_values(app, tmp_path):
    report = drive(app, 160, seed=3, progress=False)
    assert report.decisions == 160 and report.accepted > 140
    assert row_count(app, Outcome) == report.accepted
    with db.database(app).unit_of_work() as session:
        logged = load_logged(session, progress=False)
        assert len(logged) == report.accepted
        assert any(d.propensity is not None and d.propensity < 1 for d in logged)
        card = train_from_logs(
            session,
            tmp_path / "v-test",
            HeuristicPrior(),
            ValueSettings(),
            min_rows=100,
            progress=False,
        )
    holdout = card["metrics"]["holdout"]
    assert holdout["rows"] == round(len(logged) * 0.2) and 0 < holdout["retention"]["log_loss"] < 1
    values = card["metrics"]["policy_values"]
    assert {e["method"] for e in values["candidate"]} >= {"ips", "doubly_robust"}
    assert card["metrics"]["current_model"] == "heuristic-prior-1"
    assert (tmp_path / "v-test" / "calibration.png").stat().st_size > 1000
    assert (tmp_path / "v-test" / "policy_values.png").stat().st_size > 1000
    assert load_artifact(tmp_path / "v-test").version == "v-test"


def test_too_few_outcomes_is_refused(app, tmp_path):
    with db.database(app).unit_of_work() as session, pytest.raises(ValueError, match="only 0"):
        train_from_logs(session, tmp_path / "x", HeuristicPrior(), ValueSettings(), progress=False)


def dr(value, low, high):
    return {"method": "doubly_robust", "value": value, "low": low, "high": high}


@pytest.mark.parametrize(
    ("candidate", "current", "promote"),
    [
        ([dr(700, 650, 750)], [dr(600, 550, 650)], True),
        ([dr(700, 590, 750)], [dr(600, 550, 650)], False),
        ([], [dr(600, 550, 650)], False),
    ],
)
def test_promotion_needs_the_dr_lower_bound_above_the_current_estimate(candidate, current, promote):
    card = {"metrics": {"policy_values": {"candidate": candidate, "current": current}}}
    assert promotion_verdict(card)[0] is promote


def test_cli_simulate_train_and_models(tmp_path):
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}",
        "REMEDY_MODEL_DIR": str(tmp_path / "models"),
        "REMEDY_EXPLORATION_RATE": "0.5",
        "REMEDY_EXPLORATION_SEED": "5",
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    simulated = runner.invoke(cli, ["simulate", "--incidents", "150", "--no-progress"], env=env)
    assert simulated.exit_code == 0, simulated.output
    assert simulated.output.startswith("150 decisions")
    trained = runner.invoke(
        cli,
        [
            "train",
            "--version",
            "cli-1",
            "--min-rows",
            "100",
            "--promote-if-better",
            "--no-progress",
        ],
        env=env,
    )
    assert trained.exit_code == 0, trained.output
    assert "registered cli-1" in trained.output and "doubly_robust" in trained.output
    verdict = trained.output.splitlines()[-1]
    assert verdict.startswith(("promoted cli-1: DR lower bound", "not promoted: DR lower bound"))
    listed = runner.invoke(cli, ["models", "list"], env=env).output
    assert "cli-1" in listed
    promoted = runner.invoke(cli, ["models", "promote", "cli-1"], env=env)
    assert promoted.exit_code == 0 and "promoted cli-1" in promoted.output
    assert "* cli-1" in runner.invoke(cli, ["models", "list"], env=env).output
    card = json.loads((tmp_path / "models" / "trained" / "cli-1" / "card.json").read_text())
    assert card["source"]["kind"] == "logged"

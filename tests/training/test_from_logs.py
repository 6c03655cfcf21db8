"""Retraining from what the service logged: simulate through the service, train, evaluate."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from models.artifact import load_artifact
from remedy.cli import cli
from remedy.cli.common import current_or_new_app
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.configs import ConfigService
from remedy.store.tables import Outcome
from tests.conftest import row_count
from training.drive import drive
from training.from_logs import as_rows, load_logged, train_from_logs
from training.read_logs import read_rows
from training.simulator import FX_PER_USD

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
        # the streamed arrays are exactly the rows built from whole decisions
        streamed, currencies = read_rows(session, ValueSettings(), FX_PER_USD, chunk=37)
        whole = as_rows(logged, ValueSettings())
        np.testing.assert_array_equal(streamed.features, whole.features)
        np.testing.assert_array_equal(streamed.retained, whole.retained)
        np.testing.assert_array_equal(streamed.referrals, whole.referrals)
        np.testing.assert_array_equal(streamed.propensity, whole.propensity)
        np.testing.assert_allclose(streamed.reward, whole.reward, rtol=1e-12)
        assert sum(currencies.values()) == len(logged)
        card = train_from_logs(
            session,
            tmp_path / "v-test",
            HeuristicPrior(),
            ValueSettings(),
            min_rows=100,
            progress=False,
            exploration=app_services.exploration(app)[0],
        )
    holdout = card["metrics"]["holdout"]
    assert holdout["rows"] == round(len(logged) * 0.2) and 0 < holdout["retention"]["log_loss"] < 1
    values = card["metrics"]["policy_values"]
    assert {e["method"] for e in values["candidate"]} >= {"ips", "doubly_robust"}
    gate = card["metrics"]["gate"]
    assert [e["method"] for e in gate["differences"]][-1] == "doubly_robust"
    assert 0 < gate["new"]["agreement"] <= 1 and gate["new"]["ess"] > 0
    assert gate["reward_model"].startswith("cross-fitted")
    # every evaluated decision had a shown-first plan, and it lay in exploration's top 3
    assert gate["without_shown_plan"] == 0 and gate["support"]["shown_outside"] == 0
    assert gate["support"]["exploration"] == {"rate": "0.5", "top_k": 3}
    assert 0 <= gate["support"]["new"] <= 1
    assert card["source"]["currencies_without_rate"] == {}
    net = holdout["net_value"]
    assert net["rows"] == holdout["rows"] and net["ratio"] > 0
    assert card["metrics"]["current_model"] == "heuristic-prior-1"
    # ~120 training rows: a tenth is too few to calibrate on, and the card says so
    assert card["calibration"]["method"] is None
    assert "too small" in card["calibration"]["skipped"]
    assert card["calibration"]["net_value_ratio"] == net["ratio"]
    assert (tmp_path / "v-test" / "calibration.png").stat().st_size > 1000
    assert (tmp_path / "v-test" / "policy_values.png").stat().st_size > 1000
    assert load_artifact(tmp_path / "v-test").version == "v-test"


def test_too_few_outcomes_is_refused(app, tmp_path):
    with db.database(app).unit_of_work() as session, pytest.raises(ValueError, match="only 0"):
        train_from_logs(session, tmp_path / "x", HeuristicPrior(), ValueSettings(), progress=False)


def test_cli_simulate_train_and_models(tmp_path):
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}",
        "REMEDY_MODEL_DIR": str(tmp_path / "models"),
        "REMEDY_INSTANCE_PATH": str(tmp_path / "instance"),
        "REMEDY_EXPLORATION_RATE": "0.5",
        "REMEDY_EXPLORATION_SEED": "5",
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    simulated = runner.invoke(cli, ["simulate", "--incidents", "240", "--no-progress"], env=env)
    assert simulated.exit_code == 0, simulated.output
    assert simulated.output.startswith("240 decisions")
    # finance's rates, without the yen: its decisions train but are counted out of the gate
    with runner.isolation(env=env):
        app = current_or_new_app()
        with app.app_context(), db.database(app).unit_of_work() as session:
            rates = {"per_usd": {"USD": "1", "EUR": "0.9", "GBP": "0.8"}}
            ConfigService(session).replace("exchange_rates", rates, "finance-test")
    too_few = runner.invoke(cli, ["train", "--min-rows", "100", "--no-progress"], env=env)
    assert too_few.exit_code == 2 and "200" in too_few.output
    trained = runner.invoke(
        cli, ["train", "--version", "cli-1", "--promote-if-better", "--no-progress"], env=env
    )
    assert trained.exit_code == 0, trained.output
    assert "registered cli-1" in trained.output and "doubly_robust" in trained.output
    assert "candidate minus current (USD per decision, paired): ips" in trained.output
    assert "overlap (candidate): picks the plan shown first in" in trained.output
    assert "support: the candidate's pick could have been shown first in" in trained.output
    assert "holdout net value (USD per decision): predicted" in trained.output
    assert "calibration: none (slice too small" in trained.output
    verdict = trained.output.splitlines()[-1]
    # A ~45-decision holdout is worth fewer than 50 effective rows: the gate says so.
    assert verdict.startswith("not promoted: low "), verdict
    listed = runner.invoke(cli, ["models", "list"], env=env).output
    assert "cli-1" in listed
    promoted = runner.invoke(cli, ["models", "promote", "cli-1"], env=env)
    assert promoted.exit_code == 0 and "promoted cli-1" in promoted.output
    assert "* cli-1" in runner.invoke(cli, ["models", "list"], env=env).output
    card = json.loads((tmp_path / "models" / "trained" / "cli-1" / "card.json").read_text())
    assert card["source"]["kind"] == "logged"
    assert card["source"]["exchange_rates"] == {"EUR": 0.9, "GBP": 0.8, "USD": 1.0}
    assert card["source"]["exchange_rates_version"] == 2
    yen = card["source"]["currencies_without_rate"]["JPY"]
    assert yen > 0 and "without an exchange rate trained the model" in trained.output
    assert f"JPY ({yen})" in trained.output
    assert card["source"]["prior"]["model"] == "sim-4"
    assert card["metrics"]["gate"]["retention_log_loss"]["current_model"] == "sim-4"

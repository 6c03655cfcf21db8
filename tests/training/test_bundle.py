"""The day-one bundle, built small."""

from __future__ import annotations

import json

from models.artifact import CARD_FILE, MODEL_FILE, load_artifact
from models.scorer import ModelScorer
from tests.factories import make_incident
from training.bundle import build_bundle, main
from training.candidates import candidate_plans


def test_bundle_writes_a_loadable_artifact_with_card_and_plots(tmp_path):
    """The folder holds model, card and plots; the card carries metrics and policy values."""
    out = tmp_path / "sim-test-1"
    # a fifth of the 1,200 training rows calibrates P(stay): 240, above the minimum slice
    card = build_bundle(
        out,
        n_decisions=1500,
        n_jobs=1,
        oracle_sample=20,
        progress=False,
        calibration_fraction=0.2,
        max_iter=15,
    )
    assert {p.name for p in out.iterdir()} == {
        MODEL_FILE,
        CARD_FILE,
        "calibration.png",
        "policy_values.png",
    }
    assert json.loads((out / CARD_FILE).read_text()) == card
    assert card["version"] == "sim-test-1"
    assert card["training_window"]["rows"] == 1200
    assert card["metrics"]["holdout"]["rows"] == 300
    values = card["metrics"]["policy_values"]
    assert set(values["simulator_truth"]) == {"logging", "heuristic_prior", "model"}
    assert {e["method"] for e in values["offpolicy"]["heuristic_prior"]} >= {"ips", "doubly_robust"}
    assert card["source"]["seed"] > 0
    # judged like `remedy train`: a cross-fitted reward model, never the model itself
    gate = card["metrics"]["gate"]
    assert gate["reward_model"].startswith("cross-fitted")
    assert gate["retention_log_loss"]["rows"] == 300
    assert [e["method"] for e in gate["differences"]][-1] == "doubly_robust"
    assert values["gate_verdict"]
    # calibrated like `remedy train`, and the card says how, on what, and to what effect
    calibration = card["calibration"]
    retention = card["metrics"]["holdout"]["retention"]
    verdict = calibration["kept"]  # measured on the holdout either way (keep_if_better)
    error, loss = verdict["holdout_calibration_error"], verdict["holdout_log_loss"]
    assert verdict["kept"] == (error["after"] < error["before"] and loss["after"] <= loss["before"])
    if verdict["kept"]:
        assert calibration["method"] == "sigmoid" and calibration["slice_rows"] == 240
        assert calibration["booster_rows"] == 960
        assert calibration["holdout_calibration_error"] == {
            "before": retention["calibration_error_before"],
            "after": retention["calibration_error"],
        }
        assert retention["calibration_before"]
    else:  # dropped: the card's holdout metrics are the booster's own, as served
        assert calibration["method"] is None and "dropped" in calibration["skipped"]
        assert retention["calibration_error"] == error["before"]
        assert "calibration_before" not in retention
    assert calibration["net_value_ratio"] > 0
    segments = card["metrics"]["holdout"]["net_value"]["segments"]
    assert set(segments) == {"audience", "history", "fault"}
    assert sum(c["rows"] for c in segments["audience"].values()) == 300
    assert card["boosting"]["max_iter"] == 15
    scorer = ModelScorer(load_artifact(out))
    incident = make_incident()
    assert len(scorer.predict(incident, candidate_plans(incident))[0]) > 0


def test_command_line_builds_the_bundle(tmp_path, capsys):
    """`python -m training.bundle --out ...` builds and reports."""
    out = tmp_path / "cli-1"
    assert main(["--out", str(out), "--decisions", "600", "--jobs", "1", "--no-progress"]) == 0
    assert (out / MODEL_FILE).is_file()
    assert "true policy value" in capsys.readouterr().out

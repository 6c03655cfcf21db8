"""The calibration step in the artifact: saved and loaded by skops, served on every path."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from models.artifact import Artifact, load_artifact, save_artifact
from models.calibration import booster, calibrate, calibrator, is_calibrated, uncalibrated
from models.features import CURRENT, FeatureDefinition, categories
from models.pipeline import retention_pipeline
from models.scorer import P_MAX, P_MIN, ModelScorer
from remedy.services.model_registry import bundled_folders
from tests.factories import make_incident
from training.candidates import candidate_plans


def _rows(features: FeatureDefinition = CURRENT) -> tuple[np.ndarray, list]:
    """Return the feature rows of a few incidents' plans, and the decisions they came from."""
    decisions = []
    for k in range(12):
        incident = make_incident(
            category=("outage", "delivery", "billing", "martian")[k % 4],
            severity=1 + k % 5,
            churn_threat=bool(k % 2),
        )
        decisions.append((incident, candidate_plans(incident)))
    return np.vstack([features.matrix(i, p) for i, p in decisions]), decisions


def _calibrated(models: dict, rows, how: str) -> dict:
    """Return the models with the retention booster calibrated on the latest 2,000 rows.

    The booster saw those rows too: enough to exercise the mechanics, which is all these
    tests judge (tests/training/test_calibration.py judges what calibration fixes).
    """
    retention = calibrate(
        models["retention"], rows.features[-2000:], rows.retained[-2000:].astype(int), how
    )
    return {**models, "retention": retention}


@pytest.mark.parametrize("how", ["sigmoid", "isotonic"])
def test_a_calibrated_artifact_round_trips_and_serves_the_same_on_every_path(
    trained_models, logged_rows, tmp_path, how
):
    """Saved and loaded by skops, the step predicts as before saving, flat or not."""
    models = _calibrated(trained_models, logged_rows, how)
    folder = tmp_path / f"calibrated-{how}"
    card = save_artifact(folder, models)
    assert card["models"]["retention"] == "CalibratedClassifierCV"
    loaded = load_artifact(folder)
    retention = loaded.models["retention"]
    assert is_calibrated(retention) and type(calibrator(retention[-1])) is type(
        calibrator(models["retention"][-1])
    )
    x, decisions = _rows()
    expected = models["retention"].predict_proba(x)[:, 1]
    np.testing.assert_array_equal(retention.predict_proba(x)[:, 1], expected)
    bare = uncalibrated(models["retention"]).predict_proba(x)[:, 1]
    assert np.abs(expected - bare).max() > 1e-3  # the step changes something

    scorer = ModelScorer(loaded)
    assert scorer.calibrated and scorer.path == "flat-forest"
    clipped = np.clip(expected, P_MIN, P_MAX)
    p_flat, r_flat = scorer._predict_matrix(x)
    np.testing.assert_allclose(p_flat, clipped, rtol=1e-9, atol=1e-12)
    # the estimators' path, which serves when the flat forest is refused
    p_estimators, r_estimators = scorer._predict_unlimited(x)
    np.testing.assert_allclose(p_estimators, clipped, rtol=1e-12, atol=0)
    np.testing.assert_allclose(r_flat, r_estimators, rtol=1e-12, atol=0)
    # predict_many: the same numbers, decision by decision
    many = scorer.predict_many(decisions)
    one_by_one = [scorer.predict(incident, plans) for incident, plans in decisions]
    for (p_many, _), (p_one, _) in zip(many, one_by_one, strict=True):
        np.testing.assert_allclose(p_many, p_one, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.concatenate([p for p, _ in many]), p_flat, rtol=1e-12, atol=0)


def test_a_calibrated_pipeline_without_a_twin_serves_whole(trained_models, logged_rows, tmp_path):
    """An encoder no NumPy twin matches: the whole calibrated pipeline serves, calibrated."""
    widened = retention_pipeline(max_iter=10)
    widened.set_params(
        encode__categorical__categories=[np.append(c, float(len(c))) for c in categories()]
    )
    widened.fit(logged_rows.features[:4000], logged_rows.retained[:4000])
    retention = calibrate(
        widened, logged_rows.features[-2000:], logged_rows.retained[-2000:].astype(int), "sigmoid"
    )
    models = {"retention": retention, "referrals": trained_models["referrals"]}
    scorer = ModelScorer(Artifact(models, {"version": "odd"}, tmp_path))
    assert scorer.path == "pipelines" and scorer.calibrated
    x, _ = _rows()
    expected = np.clip(retention.predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_array_equal(scorer._predict_matrix(x)[0], expected)
    bare = np.clip(widened.predict_proba(x)[:, 1], P_MIN, P_MAX)
    assert not np.allclose(expected, bare)


def test_the_booster_inside_the_step_is_the_one_fitted(trained_models, logged_rows):
    """Calibrating freezes the fitted booster: no refit, the same trees."""
    models = _calibrated(trained_models, logged_rows, "sigmoid")
    inner = booster(models["retention"][-1])
    assert isinstance(inner, HistGradientBoostingClassifier)
    assert inner is trained_models["retention"][-1]
    assert booster(trained_models["retention"][-1]) is inner  # a bare estimator is its own


@pytest.mark.parametrize("folder", bundled_folders(), ids=lambda f: f.name)
def test_bundled_artifacts_score_on_the_flat_path_as_their_pipelines_do(folder):
    """sim-1 to sim-3 have no calibration step (P(stay) is their booster's, unchanged); a newer
    one has it where it helped on its holdout (its card says so), and the flat path applies it."""
    scorer = ModelScorer(load_artifact(folder))
    card = scorer.artifact.card.get("calibration") or {}
    assert scorer.calibrated == (card.get("method") is not None)
    assert scorer.path == "flat-forest"
    x, _ = _rows(scorer.features)
    expected = np.clip(scorer.artifact.models["retention"].predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_allclose(scorer._predict_matrix(x)[0], expected, rtol=1e-12, atol=0)

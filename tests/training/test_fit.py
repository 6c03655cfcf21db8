"""Fitting, holdout evaluation and plots."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from training.fit import (
    calibration_bins,
    evaluate_holdout,
    expected_calibration_error,
    fit_models,
    plot_calibration,
    plot_policy_values,
)
from training.logs import time_split
from training.offpolicy import Estimate

PNG = b"\x89PNG\r\n\x1a\n"


def test_fit_models_returns_both_fitted_pipelines(trained_models):
    """A classifier for P(stay) and a Poisson regressor for referrals, each a Pipeline."""
    assert set(trained_models) == {"retention", "referrals"}
    assert all(isinstance(m, Pipeline) for m in trained_models.values())
    assert trained_models["referrals"][-1].loss == "poisson"


def test_fit_refuses_labels_without_both_outcomes(logged_rows):
    """A retention model needs customers who stayed and customers who left."""
    rows = logged_rows.take(np.flatnonzero(logged_rows.retained)[:500])
    with pytest.raises(ValueError, match="both outcomes"):
        fit_models(rows, progress=False)


def test_holdout_metrics_beat_the_base_rate(logged_rows):
    """On the latest 20%, the model's log loss beats predicting the base rate; AUC > 0.6."""
    train, holdout = time_split(logged_rows)
    models = fit_models(train, progress=False, max_iter=60)
    metrics = evaluate_holdout(models, holdout)
    retention = metrics["retention"]
    assert retention["log_loss"] < retention["log_loss_base_rate"]
    assert retention["auc"] > 0.6
    assert 0 < retention["brier"] < 0.25
    assert sum(b["count"] for b in retention["calibration"]) == len(holdout)
    assert metrics["referrals"]["poisson_deviance"] > 0
    # boosting on log loss (a proper scoring rule) is calibrated out of sample too
    assert retention["calibration_error"] < 0.05
    assert metrics["window"]["rows"] == len(holdout)


def test_calibration_bins_by_hand():
    """Equal-width bins report mean prediction, observed rate and count."""
    p = np.array([0.05, 0.15, 0.95, 0.97])
    y = np.array([0, 1, 1, 0])
    bins = calibration_bins(p, y, n_bins=10)
    assert [b["count"] for b in bins] == [1, 1, 2]
    assert bins[-1]["predicted"] == pytest.approx(0.96)
    assert bins[-1]["observed"] == 0.5
    # count-weighted gaps: 0.05 (bin 1), 0.85 (bin 2), 0.46 (bin 10, two rows)
    assert expected_calibration_error(bins) == pytest.approx((0.05 + 0.85 + 2 * 0.46) / 4)
    assert expected_calibration_error([]) is None


def test_plots_are_written_as_png(tmp_path):
    """Both plots write PNG files."""
    bins = calibration_bins(np.array([0.2, 0.8]), np.array([0, 1]))
    calibration = plot_calibration(bins, tmp_path / "calibration.png")
    estimates = {
        "prior": [Estimate("ips", 1.0, 0.5, 1.5, 10, 0.95)],
        "model": [Estimate("ips", 2.0, 1.0, 3.0, 10, 0.95), Estimate("dr", 2, 1.5, 2.5, 10, 0.95)],
    }
    values = plot_policy_values(estimates, tmp_path / "values.png", truth={"model": 2.2})
    for path in (calibration, values):
        assert path.read_bytes()[:8] == PNG

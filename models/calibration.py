"""The step that calibrates P(stay), inside the retention pipeline.

Issue 13 asks for calibrated P(stay): the ranker multiplies it by years of customer value, so
a booster that overstates P(stay) by 5% overstates every plan's net value by about as much.
The step is scikit-learn's own `CalibratedClassifierCV(FrozenEstimator(booster), method=...)`
as the pipeline's last step, fitted on rows the booster did not train on
(training/calibration.py chooses them, and the method). Why this form:

- inside the pipeline, every `predict_proba` of the retention model is calibrated: the
  holdout metrics, the scorer's fallback, any tool that loads the artifact. Nothing that holds
  a `dict[str, Pipeline]` has to know a calibrator exists;
- `FrozenEstimator` makes the calibrated classifier use the booster as fitted (one fit of the
  map, no cross-validation refits: five refits at 1M rows would eat the retraining budget);
- the map is fitted on the booster's raw score (`decision_function`, the logit), which
  scikit-learn picks before `predict_proba`, and which `models.forest.FlatForest` computes;
- both of scikit-learn's binary methods are supported: "sigmoid" (Platt: P(stay) =
  1 / (1 + exp(a * raw + b)), two numbers; a = -1, b = 0 is the booster itself) and
  "isotonic" (a monotone step function, interpolated);
- skops-safe: `CalibratedClassifierCV`, `FrozenEstimator` and `IsotonicRegression` are in skops'
  default trust; `_CalibratedClassifier` holds only the booster, the list of calibrators, the
  class labels and the method name, and `_SigmoidCalibration` two floats (models/artifact.py
  allow-lists both). skops writes the booster's schema twice (under the step and under its
  calibrated classifier) but its arrays once, and loads one booster object: a calibrated
  artifact of a model fitted on 6k simulated decisions was 8% larger (260 kB, not 241 kB).

Artifacts without the step (the bundled sim-1..3) are unchanged: `calibrator` returns None and
the scorer serves the booster's own probabilities, exactly as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.pipeline import Pipeline

METHODS = ("sigmoid", "isotonic")


def calibrate(
    pipeline: Pipeline,
    x: np.ndarray,
    y: np.ndarray,
    method: str,
    sample_weight: np.ndarray | None = None,
) -> Pipeline:
    """Return the fitted pipeline with its booster wrapped in a calibration step fitted on (x, y).

    `x` are feature rows (models.features order) the booster was not fitted on; the fitted
    encoder is reused as it is, the booster is frozen, and only the map from its raw score to
    P(stay) is learned: `method` "sigmoid" (two numbers) or "isotonic" (a step function).
    """
    if method not in METHODS:
        raise ValueError(f"calibration method must be one of {METHODS}, got {method!r}")
    encode, booster = pipeline[:-1], pipeline[-1]
    step = CalibratedClassifierCV(FrozenEstimator(booster), method=method)
    step.fit(encode.transform(x), y, sample_weight=sample_weight)
    return Pipeline([*pipeline.steps[:-1], (pipeline.steps[-1][0], step)])


def _calibrated_classifier(step: Any) -> Any | None:
    """Return the single calibrated classifier of a calibration step, None for a bare estimator."""
    if not isinstance(step, CalibratedClassifierCV):
        return None
    if step.method not in METHODS or len(step.calibrated_classifiers_) != 1:
        raise ValueError("only one sigmoid or isotonic map of one frozen estimator is supported")
    return step.calibrated_classifiers_[0]


def booster(step: Any) -> Any:
    """Return the estimator whose score the step calibrates (the step itself when bare)."""
    calibrated = _calibrated_classifier(step)
    if calibrated is None:
        return step
    estimator = calibrated.estimator
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator


def calibrator(step: Any) -> Any | None:
    """Return the fitted map of the step's positive class, None when uncalibrated."""
    calibrated = _calibrated_classifier(step)
    if calibrated is None:
        return None
    (found,) = calibrated.calibrators
    return found


def method(step: Any) -> str | None:
    """Return the step's calibration method, None when uncalibrated."""
    return str(step.method) if _calibrated_classifier(step) is not None else None


def is_calibrated(pipeline: Pipeline) -> bool:
    """Tell whether the pipeline's last step is a calibration step (of any method)."""
    return isinstance(pipeline[-1], CalibratedClassifierCV)


def uncalibrated(pipeline: Pipeline) -> Pipeline:
    """Return the pipeline with the booster as its last step: its scores before calibration."""
    return Pipeline([*pipeline.steps[:-1], (pipeline.steps[-1][0], booster(pipeline[-1]))])


def describe(step: Any) -> dict[str, Any] | None:
    """Return the fitted map's numbers for the card (None when uncalibrated)."""
    found = calibrator(step)
    if found is None:
        return None
    if isinstance(found, IsotonicRegression):
        return {"thresholds": len(found.X_thresholds_)}
    # P(stay) = 1 / (1 + exp(a * raw + b)): a = -1, b = 0 is the booster's own probability
    return {"a": float(found.a_), "b": float(found.b_)}


class CalibrationMap:
    """A fitted calibration map as plain numbers, the NumPy twin of the step's calibrator.

    Isotonic: `IsotonicRegression(out_of_bounds="clip").predict` clips to the fitted range and
    interpolates linearly (scipy's `interp1d`), which `np.interp` does in one call. Sigmoid:
    `_SigmoidCalibration.predict` is `expit(-(a * score + b))`. Either way without
    scikit-learn's input checks, which cost more than the map on 40 rows. `ModelScorer`
    checks the twin against the pipeline's own `predict_proba` at load.
    """

    def __init__(self, fitted: Any) -> None:
        """Copy the numbers of a fitted isotonic or sigmoid calibrator."""
        self.x = self.y = None
        self.a = self.b = 0.0
        if isinstance(fitted, IsotonicRegression):
            if fitted.out_of_bounds != "clip":
                raise ValueError("only an isotonic map that clips outside its range has a twin")
            self.x = np.asarray(fitted.X_thresholds_, dtype=np.float64)
            self.y = np.asarray(fitted.y_thresholds_, dtype=np.float64)
        elif hasattr(fitted, "a_") and hasattr(fitted, "b_"):
            self.a, self.b = float(fitted.a_), float(fitted.b_)
        else:
            raise ValueError(f"no twin for a {type(fitted).__name__} calibrator")

    def __call__(self, score: np.ndarray) -> np.ndarray:
        """Return the calibrated probability of each raw score."""
        if self.x is not None and self.y is not None:
            return np.interp(score, self.x, self.y)
        return expit(-(self.a * score + self.b))

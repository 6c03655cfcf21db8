"""Which logged rows calibrate P(stay), how, and what the model card says about it.

The retention booster is fitted on the earlier part of the training window and its
calibration step (models/calibration.py) on the latest `CALIBRATION_FRACTION` (10%), by
decision time:

- rows the booster did not train on: a map fitted on the booster's own training rows learns
  its confidence there, which is not its confidence on new decisions;
- the latest rows, not a random tenth: they are closest in time to the decisions the model
  will score, and a time cut keeps the slice apart from the booster the way the holdout is;
- logged rows only: the prior's pseudo-rows (training/prior.py) carry the current model's
  beliefs, and calibration is to what customers actually did. Every logged row weighs 1 in the
  fit (only pseudo-rows are weighted), so the slice is fitted unweighted, the same rule;
- one fit of the map, not `CalibratedClassifierCV`'s five refits: the booster takes ~10 s at
  1M rows and retraining has 90 s; the step costs one prediction over the slice (~1 s for a
  100k-row slice on one thread, either method).

Sigmoid (Platt) and not isotonic, by default (`CALIBRATION_METHOD`). Measured on simulated
logs, booster on the earlier 90% of the training window, map on the latest 10%, judged on the
20% holdout after them (expected calibration error, holdout log loss):

- a booster overstating P(stay) (a wrong prior, or labels skewed): both fix it; at 40k
  decisions ECE 0.093 -> 0.012 isotonic, 0.007 sigmoid; with the heuristic prior distilled at
  6k decisions 0.056 -> 0.047 isotonic, 0.026 sigmoid;
- a booster already calibrated (the simulator's iid logs): isotonic makes it worse, sigmoid
  hardly moves it; at 40k ECE 0.009 -> 0.018 isotonic, 0.013 sigmoid, log loss +0.0125
  isotonic, +0.0003 sigmoid;
- isotonic's holdout log loss is worse than the booster's in every run up to 40k decisions
  (3.2k slice rows): its end steps sit at exactly 0 or 1 on a few dozen rows, and a holdout
  customer who does the other thing costs the clipped maximum.

Two numbers fix what a prior, drift or a selection effect does to the booster (a shift and a
scale of its logit) and cannot overfit a slice of a few hundred rows; a step function can.
`fit_models(calibration_method="isotonic")` is there for logs large enough to want its shape.

The booster is not refitted on the whole window afterwards. A refit would double the
retention fit at 1M rows, and the map would then be applied to scores of a booster it never
saw: calibrated to a neighbour, by an error that is largest exactly when data are few, which
is when calibration matters most. The 10% the booster gives up are the cheapest rows to lose
where they are many, and where they are few the prior carries what they would have said. The
referrals model needs no slice and still fits on the whole window.

Too small a slice is no calibration: fewer than `MIN_CALIBRATION_ROWS` rows, or fewer than
`MIN_PER_OUTCOME` stays or leaves, and the booster fits on everything, uncalibrated; the card
says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from models.calibration import describe, is_calibrated, method
from models.pipeline import RETENTION
from training.logs import LoggedRows

CALIBRATION_FRACTION = 0.1  # the latest share of the training window that calibrates P(stay)
CALIBRATION_METHOD = "sigmoid"  # see above: two numbers, where a step function overfits
# Below these even two numbers are mostly noise (the slice's stay rate alone has a standard
# error of ~3 points at 200 rows), and an isotonic map is a few steps on a handful of outcomes.
MIN_CALIBRATION_ROWS = 200
MIN_PER_OUTCOME = 20


@dataclass(frozen=True)
class CalibrationSplit:
    """The training window cut for calibration: the booster's rows and the slice after them."""

    booster: LoggedRows  # the booster's logged rows (the prior's pseudo-rows are added later)
    slice: LoggedRows | None  # the latest rows, for the isotonic step; None: not calibrated
    skipped: str | None = None  # why there is no slice


def split_for_calibration(rows: LoggedRows, fraction: float) -> CalibrationSplit:
    """Cut the latest `fraction` of the rows (by decision time) off as the calibration slice.

    0 asks for no calibration. A slice too small, or without enough of either outcome, or
    leaving the booster one outcome only, gives no slice and all rows to the booster.
    """
    if fraction == 0:
        return CalibrationSplit(rows, None, "not asked for (calibration fraction 0)")
    if not 0.0 < fraction < 1.0:
        raise ValueError("the calibration fraction must lie in [0, 1)")
    order = np.argsort(rows.decided_at, kind="stable")
    cut = int(round(len(rows) * (1.0 - fraction)))
    booster, held = rows.take(order[:cut]), rows.take(order[cut:])
    stays = int(held.retained.sum())
    if len(held) < MIN_CALIBRATION_ROWS or min(stays, len(held) - stays) < MIN_PER_OUTCOME:
        return CalibrationSplit(
            rows,
            None,
            f"slice too small: {len(held)} rows, {stays} stayed (need {MIN_CALIBRATION_ROWS} "
            f"rows and {MIN_PER_OUTCOME} of each outcome)",
        )
    if booster.retained.all() or not booster.retained.any():
        return CalibrationSplit(rows, None, "the rows before the slice have one outcome only")
    return CalibrationSplit(booster, held)


def calibration_section(
    models: Mapping[str, Pipeline],
    train: LoggedRows,
    fraction: float,
    holdout_metrics: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the card's `calibration`: the step, its slice, and holdout error before and after.

    Without a step: the method is None and `skipped` says why.

    `holdout_metrics` is `training.fit.evaluate_holdout`'s result for these models; the
    predicted/realised net value ratio is added by the caller that computes it.
    """
    split = split_for_calibration(train, fraction)
    retention = models[RETENTION]
    if not is_calibrated(retention) or split.slice is None:
        return {"method": None, "skipped": split.skipped or "the model has no calibration step"}
    step = retention[-1]
    metrics = holdout_metrics["retention"]
    return {
        "method": method(step),
        "step": f"CalibratedClassifierCV(FrozenEstimator(booster), method={method(step)!r}) "
        "on the booster's raw score",
        "fitted": describe(step),
        "slice": "the latest share of the training window by decision time; logged rows "
        "only, no prior pseudo-rows; unweighted",
        "fraction": fraction,
        "slice_rows": len(split.slice),
        "slice_window": split.slice.window(),
        "slice_stay_rate": float(split.slice.retained.mean()),
        "booster_rows": len(split.booster),
        "booster_refitted_on_all": False,
        "holdout_calibration_error": {
            "before": metrics.get("calibration_error_before"),
            "after": metrics.get("calibration_error"),
        },
        "holdout_log_loss": {
            "before": metrics.get("log_loss_before"),
            "after": metrics.get("log_loss"),
        },
    }

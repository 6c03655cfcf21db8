"""Which logged rows calibrate P(stay), and what the model card says about the calibration.

The retention booster is fitted on the earlier part of the training window and its isotonic
step (models/calibration.py) on the latest `CALIBRATION_FRACTION` (10%), by decision time:

- rows the booster did not train on: an isotonic map fitted on the booster's own training rows
  learns its overconfidence there, which is not its overconfidence on new decisions;
- the latest rows, not a random tenth: they are closest in time to the decisions the model
  will score, and a time cut keeps the slice apart from the booster the way the holdout is;
- logged rows only: the prior's pseudo-rows (training/prior.py) carry the current model's
  beliefs, and calibration is to what customers actually did. Every logged row weighs 1 in the
  fit (only pseudo-rows are weighted), so the slice is fitted unweighted, the same rule;
- one isotonic fit, not `CalibratedClassifierCV`'s five refits: the booster takes ~10 s at
  1M rows and retraining has 90 s; the step costs one prediction over the slice.

The booster is not refitted on the whole window afterwards. A refit would double the
retention fit at 1M rows, and the isotonic map would then be applied to scores of a booster it
never saw: calibrated to a neighbour, by an error that is largest exactly when data are few,
which is when calibration matters most. The 10% the booster gives up are the cheapest rows
to lose where they are many, and where they are few the prior carries what they would have.
The referrals model needs no slice and still fits on the whole window.

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
CALIBRATION_METHOD = "sigmoid"  # see above: two numbers, where an isotonic step overfits
# Below these an isotonic map is mostly noise: a few steps, each on a handful of outcomes.
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

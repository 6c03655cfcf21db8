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

**Kept only where it helps, measured** (issue 25: the step worsened holdout calibration in 3 of
7 trainings, 0.005 -> 0.026). After fitting, `keep_if_better` compares the calibrated and the
uncalibrated model on the holdout; the step stays only when it lowers the expected calibration
error without raising the log loss, and otherwise the booster serves alone. The card's
`calibration.kept` gives both figures either way. The holdout then chose one of two models; two
candidates, one bit of selection, a small optimism in the holdout figures the card reports.

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

from models.calibration import describe, is_calibrated, method, uncalibrated
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
    cut = int(round(len(rows) * (1.0 - fraction)))
    if (np.diff(rows.decided_at) >= np.timedelta64(0, "s")).all():
        # already in decision order (as read_rows reads them): views, not a copy of the rows
        booster, held = rows.take(slice(0, cut)), rows.take(slice(cut, None))
    else:
        order = np.argsort(rows.decided_at, kind="stable")
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


def keep_if_better(
    models: Mapping[str, Pipeline], holdout_metrics: Mapping[str, Any]
) -> tuple[dict[str, Pipeline], dict[str, Any] | None]:
    """Return the models with P(stay)'s calibration step kept only if it helped on the holdout.

    `holdout_metrics` is `training.fit.evaluate_holdout` of `models`. Kept when the holdout's
    expected calibration error is lower with the step and its log loss no higher; otherwise the
    retention pipeline loses the step (the booster it wraps serves alone; re-evaluate the
    holdout then). The verdict says what was measured (None: there was no step).
    """
    retention = models[RETENTION]
    if not is_calibrated(retention):
        return dict(models), None
    metrics = holdout_metrics["retention"]
    error = {"before": metrics["calibration_error_before"], "after": metrics["calibration_error"]}
    loss = {"before": metrics["log_loss_before"], "after": metrics["log_loss"]}
    kept = error["after"] < error["before"] and loss["after"] <= loss["before"]
    verdict = {
        "kept": kept,
        "rule": "kept when it lowers the holdout's calibration error without raising its log loss",
        "holdout_calibration_error": error,
        "holdout_log_loss": loss,
        "method": method(retention[-1]),
    }
    if kept:
        return dict(models), verdict
    return {**models, RETENTION: uncalibrated(retention)}, verdict


def calibration_section(
    models: Mapping[str, Pipeline],
    train: LoggedRows,
    fraction: float,
    holdout_metrics: Mapping[str, Any],
    verdict: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the card's `calibration`: the step, its slice, and holdout error before and after.

    Without a step: the method is None and `skipped` says why. `verdict` is
    `keep_if_better`'s, when it was asked.

    `holdout_metrics` is `training.fit.evaluate_holdout`'s result for these models; the
    predicted/realised net value ratio is added by the caller that computes it.
    """
    split = split_for_calibration(train, fraction)
    retention = models[RETENTION]
    if verdict is not None and not verdict["kept"]:
        error, loss = verdict["holdout_calibration_error"], verdict["holdout_log_loss"]
        return {
            "method": None,
            "skipped": f"fitted ({verdict['method']}) and dropped: holdout calibration error "
            f"{error['before']:.4f} -> {error['after']:.4f}, log loss {loss['before']:.4f} -> "
            f"{loss['after']:.4f} with it",
            "kept": dict(verdict),
        }
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
        "kept": dict(verdict) if verdict is not None else None,
    }

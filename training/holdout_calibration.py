"""How well a model's predictions of the holdout's logged plans match what happened.

Net value predicted over realised, overall and per segment (`SEGMENTS`: audience, history,
fault), with P(stay)'s calibration error; and both models' log loss of P(stay) on the logged
plans (`retention_log_loss`), which training/gate.py holds against the candidate. The card's
`metrics.holdout.net_value` and `metrics.gate.retention_log_loss` come from here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import log_loss

from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.value import valued
from remedy.domain import Incident
from training.fit import calibration_bins, expected_calibration_error
from training.logged import LoggedDecision, Rates, _reward, net_values_many, predict_positions
from training.simulator import FX_PER_USD

Cells = dict[str, dict[str, dict[str, float | int | None]]]


# The segments issue 25 asks calibration for: who hears the complaint, whether the customer was
# failed before, and whose fault it was.
SEGMENTS: dict[str, Callable[[Incident], str]] = {
    "audience": lambda i: "public" if i.is_public else "private",
    "history": lambda i: "repeat" if i.prior_incidents > 0 else "first",
    "fault": lambda i: str(i.fault_type),
}


def _logged_values(
    priced: Sequence[LoggedDecision], scorer: PlanScorer, values: ValueSettings, rates: Rates
) -> tuple[np.ndarray, np.ndarray]:
    """Return the scorer's net value of each decision's logged plan and what it realised."""
    logged = [(d.logged_index,) for d in priced]  # only the accepted plan is scored
    found = net_values_many(scorer, priced, values, rates, positions=logged)
    predicted = np.array([v[d.logged_index] for v, d in zip(found, priced, strict=True)])
    return predicted, np.array([_reward(d, values, rates) for d in priced])


def net_value_calibration(
    holdout: Sequence[LoggedDecision],
    scorer: PlanScorer,
    values: ValueSettings,
    rates: Rates = FX_PER_USD,
) -> dict[str, float | int | Cells | None]:
    """Compare the scorer's predicted net value of the logged plans with what they realised.

    Over holdout decisions with a known rate, in USD per decision; `ratio` is predicted over
    realised (1 is calibrated; None when the realised mean is 0); `segments` as
    `segment_calibration` gives them, from the same predictions.
    """
    priced = [d for d in holdout if d.incident.currency in rates]
    if not priced:
        return {"rows": 0, "predicted_mean": None, "realised_mean": None, "ratio": None}
    predicted, realised = _logged_values(priced, scorer, values, rates)
    predicted_mean, realised_mean = float(np.mean(predicted)), float(np.mean(realised))
    return {
        "rows": len(priced),
        "predicted_mean": predicted_mean,
        "realised_mean": realised_mean,
        "ratio": predicted_mean / realised_mean if realised_mean else None,
        "segments": _segments(priced, scorer, values, predicted, realised),
    }


def segment_calibration(
    holdout: Sequence[LoggedDecision],
    scorer: PlanScorer,
    values: ValueSettings,
    rates: Rates = FX_PER_USD,
) -> Cells:
    """Return, per segment of the holdout, how the scorer's predictions of the logged plans
    compare with what happened: P(stay) (mean, observed rate, calibration error) and net value
    (USD per decision, predicted over realised: the ratio the ranker's choices rest on).

    Only decisions with a known rate; a segment without rows is left out.
    """
    priced = [d for d in holdout if d.incident.currency in rates]
    if not priced:
        return {}
    predicted, realised = _logged_values(priced, scorer, values, rates)
    return _segments(priced, scorer, values, predicted, realised)


def _segments(
    priced: Sequence[LoggedDecision],
    scorer: PlanScorer,
    values: ValueSettings,
    predicted: np.ndarray,
    realised: np.ndarray,
) -> Cells:
    """Return `segment_calibration`'s cells from the logged plans' net values."""
    p_stay = logged_p_stay(valued(scorer, values), priced)
    stayed = np.array([d.retained for d in priced], dtype=int)
    out: Cells = {}
    for name, segment_of in SEGMENTS.items():
        labels = np.array([segment_of(d.incident) for d in priced])
        found: dict[str, dict[str, float | int | None]] = {}
        for label in sorted(set(labels.tolist())):
            rows = labels == label
            realised_mean = float(realised[rows].mean())
            found[label] = {
                "rows": int(rows.sum()),
                "p_stay_predicted": float(p_stay[rows].mean()),
                "stay_rate": float(stayed[rows].mean()),
                "calibration_error": expected_calibration_error(
                    calibration_bins(p_stay[rows], stayed[rows])
                ),
                "net_value_predicted": float(predicted[rows].mean()),
                "net_value_realised": realised_mean,
                "net_value_ratio": float(predicted[rows].mean()) / realised_mean
                if realised_mean
                else None,
            }
        out[name] = found
    return out


def logged_p_stay(scorer: PlanScorer, decisions: Sequence[LoggedDecision]) -> np.ndarray:
    """Return the scorer's P(stay) of each decision's logged plan (batched when it can)."""
    predictions = predict_positions(scorer, decisions, [(d.logged_index,) for d in decisions])
    return np.array([float(p[0]) for p, _ in predictions], dtype=float)


def retention_log_loss(
    holdout: Sequence[LoggedDecision], candidate: PlanScorer, current: PlanScorer
) -> dict[str, Any] | None:
    """Return both models' log loss of P(stay) on the holdout's logged plans (None if empty).

    The same rows, the same clip as the holdout metrics: the gate refuses a candidate that
    predicts what customers did worse than the model it would replace.
    """
    if not holdout:
        return None
    y = np.array([d.retained for d in holdout], dtype=int)

    p_candidate = np.clip(logged_p_stay(candidate, holdout), 1e-6, 1 - 1e-6)
    p_current = np.clip(logged_p_stay(current, holdout), 1e-6, 1 - 1e-6)
    return {
        "rows": len(holdout),
        "candidate": float(log_loss(y, p_candidate, labels=[0, 1])),
        "current": float(log_loss(y, p_current, labels=[0, 1])),
        "current_model": str(getattr(current, "version", "unknown")),
        # the reliability plot of each in one number: mean |predicted - observed| over bins
        "calibration_error": {
            "candidate": expected_calibration_error(calibration_bins(p_candidate, y)),
            "current": expected_calibration_error(calibration_bins(p_current, y)),
        },
    }

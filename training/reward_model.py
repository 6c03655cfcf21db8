"""The doubly robust reward model of the holdout: fitted afresh, cross-fitted, never the candidate.

`cross_fitted_values` fits the outcome pipelines on the holdout alone, K folds, each fold
predicted by a model fitted on the others, so no prediction comes from a model that saw the row,
and none from the data the candidate was fitted on (whose noise the candidate's picks exploit).
training/holdout.py `policy_values` reads it; a reward model of last resort (the mean outcome)
stands in where a fold cannot fit the pipelines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from models.artifact import Artifact
from models.scorer import ModelScorer
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.domain import Incident, Plan
from training.fit import fit_models
from training.logged import LoggedDecision, Rates, as_rows, net_values_many
from training.simulator import FX_PER_USD


class _MeanScorer:
    """A reward model of last resort: the mean outcome of the rows it was given, for every plan."""

    sees_word_of_mouth = True  # the mean of observed referrals: nothing to assume on top

    def __init__(self, decisions: Sequence[LoggedDecision]) -> None:
        """Keep the mean retention and referrals (0.5 and 0 when there are no rows)."""
        self.version = "mean-outcome"
        self._p = float(np.mean([d.retained for d in decisions])) if decisions else 0.5
        self._referrals = float(np.mean([d.referrals for d in decisions])) if decisions else 0.0

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return the same P(stay) and referrals for every plan."""
        return np.full(len(plans), self._p), np.full(len(plans), self._referrals)


RewardModelFit = Callable[[Sequence[LoggedDecision], ValueSettings, int], PlanScorer]


def fit_reward_model(
    decisions: Sequence[LoggedDecision], values: ValueSettings, seed: int
) -> PlanScorer:
    """Fit the outcome pipelines on some logged decisions, as a reward model for DR.

    Leaves scale with the rows (the production setting of 100 would leave a few hundred rows
    one leaf); a fold without both retention outcomes or without a single referral (which
    neither classifier nor Poisson regression can fit) falls back to the mean outcome.
    """
    rows = as_rows(decisions, values)
    both = rows.retained.any() and not rows.retained.all()
    if len(rows) < 2 or not both or rows.referrals.sum() == 0:
        return _MeanScorer(decisions)
    leaf = int(np.clip(len(rows) // 20, 5, 100))
    models = fit_models(rows, seed=seed, progress=False, min_samples_leaf=leaf)
    return ModelScorer(Artifact(models, {"version": "reward-model"}, Path(".")))


def fold_of(n: int, folds: int, seed: int) -> np.ndarray:
    """Assign n rows to `folds` folds of near-equal size, at random (seeded)."""
    return np.random.default_rng(seed).permutation(n) % folds


def cross_fitted_values(
    decisions: Sequence[LoggedDecision],
    values: ValueSettings,
    *,
    folds: int = 5,
    seed: int = 0,
    fit: RewardModelFit = fit_reward_model,
    rates: Rates = FX_PER_USD,
    positions: Sequence[Sequence[int]] | None = None,
) -> list[np.ndarray]:
    """Return a reward model's net value (USD) of every candidate plan of every decision.

    Cross-fitted: the decisions are split into `folds` folds and each fold is predicted by a
    model fitted on the other folds only, so no row's prediction comes from a model that saw its
    outcome. The reward model is fitted here, from these decisions alone, never taken from the
    caller: the model under evaluation cannot grade itself. With `positions`, only those
    candidates of each decision are predicted, the rest are NaN (`net_values_many`).
    """
    if len(decisions) < 2:
        raise ValueError("cross-fitting needs at least two decisions")
    folds = min(folds, len(decisions))
    which = fold_of(len(decisions), folds, seed)
    out: list[np.ndarray] = [np.empty(0)] * len(decisions)
    for k in range(folds):
        model = fit([d for d, f in zip(decisions, which, strict=True) if f != k], values, seed)
        members = np.flatnonzero(which == k)
        wanted = None if positions is None else [positions[i] for i in members]
        predicted = net_values_many(
            model, [decisions[i] for i in members], values, rates, positions=wanted
        )
        for i, v in zip(members, predicted, strict=True):
            out[i] = v
    return out

"""Keep the prior: retraining starts from what the current model knows, not from nothing.

A model fitted on a few thousand logged outcomes alone forgets what the day-one model learned
from 96,000 simulated decisions (issue 13: holdout AUC fell from 0.76 to 0.64 and net values
were overstated by 19%). So the retraining set holds, beside the logged rows, *pseudo-rows* that
carry the current model's beliefs, down-weighted so that together they count as
`PRIOR_STRENGTH` logged decisions.

Why distillation and not the bundled simulator's rows or an offset:

- an offset (the prior's logit as the boosting's starting score) is what one would do with a
  GLM, but scikit-learn's histogram boosting has no per-row initial score, and a wrapper
  estimator would leave the artifact's skops allow-list and the flat-forest serving path;
- regenerating simulator rows ties every retrain to the simulated world (and costs minutes per
  100k decisions through the service's planner), whereas the current model is what the service
  actually believes today: the bundled sim-3 on day one, a promoted retrained model later;
- the current model's P(stay) is a probability, not a draw: one pseudo-row with label 1 and
  weight p * w beside one with label 0 and weight (1 - p) * w is exactly the log loss of the
  soft label p, so a few thousand pseudo-rows carry the prior without sampling noise; E[referrals]
  is a Poisson regressor's target as it stands.

Pseudo-rows are every candidate plan of a seeded sample of the *training* decisions (never the
holdout, which judges the candidate), so the prior speaks where the log is silent: the plans
the logging policy rarely showed. Their total weight is fixed, so the prior counts for as much as
`PRIOR_STRENGTH` (2,000) logged decisions: about half the weight at 2,400 logged rows (issue 13's
run), 2% at 100,000, and nothing that matters at 1,000,000 — the log takes over as it grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.features import feature_matrix
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.value import valued
from remedy.domain import Incident, Plan

PRIOR_STRENGTH = 2_000.0  # the prior's total weight, in logged decisions
PRIOR_DECISIONS = 600  # training decisions whose every candidate becomes a pseudo-row


@dataclass(frozen=True)
class PriorRows:
    """Pseudo-rows carrying a model's beliefs, with the weight each counts for."""

    features: np.ndarray  # (m, n_features), models.features order
    p_stay: np.ndarray  # the prior's P(stay) per row (a soft label)
    referrals: np.ndarray  # the prior's E[referrals] per row (a Poisson target)
    weight: np.ndarray  # weight per row; sums to the prior's strength
    source: str  # the version of the model distilled

    def __len__(self) -> int:
        """Return the number of pseudo-rows."""
        return len(self.p_stay)

    def describe(self) -> dict[str, object]:
        """Return what the model card says about the prior."""
        return {
            "kind": "distilled current model",
            "model": self.source,
            "pseudo_rows": len(self),
            "strength": float(self.weight.sum()),
            "mean_p_stay": float(self.p_stay.mean()) if len(self) else None,
        }


def distil(
    decisions: Sequence[tuple[Incident, Sequence[Plan]]],
    scorer: PlanScorer,
    *,
    strength: float = PRIOR_STRENGTH,
    sample: int = PRIOR_DECISIONS,
    seed: int = 0,
    values: ValueSettings | None = None,
) -> PriorRows | None:
    """Return pseudo-rows of `scorer`'s beliefs on every candidate of a sample of decisions.

    None when there is nothing to distil (no decisions or a strength of 0).
    """
    if not decisions or strength <= 0:
        return None
    # What the current model believes is what the ranker values with it: a model that cannot
    # see word of mouth hands on its assumption (remedy/decisions/value.py), which the new
    # model, seeing public and reach, may learn otherwise from observed referrals.
    believed = valued(scorer, values or ValueSettings())
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.permutation(len(decisions))[: min(sample, len(decisions))])
    features, p_stay, referrals = [], [], []
    for i in picked:
        incident, plans = decisions[i]
        if not plans:
            continue
        p, r = believed.predict(incident, plans)
        features.append(feature_matrix(incident, plans))
        p_stay.append(np.clip(np.asarray(p, dtype=float), 0.0, 1.0))
        referrals.append(np.maximum(np.asarray(r, dtype=float), 0.0))
    if not features:
        return None
    x = np.concatenate(features)
    return PriorRows(
        features=x,
        p_stay=np.concatenate(p_stay),
        referrals=np.concatenate(referrals),
        weight=np.full(len(x), strength / len(x)),
        source=str(getattr(scorer, "version", "unknown")),
    )


def retention_training_set(
    features: np.ndarray, retained: np.ndarray, prior: PriorRows | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (X, y, sample_weight) for the retention classifier: logged rows, then the prior.

    Each pseudo-row appears twice, as a stay weighted p * w and a leave weighted (1 - p) * w:
    the classifier's log loss on the pair is w times that of the soft label p.
    """
    y = retained.astype(int)
    ones = np.ones(len(y))
    if prior is None or len(prior) == 0:
        return features, y, ones
    x = np.concatenate([features, prior.features, prior.features])
    labels = np.concatenate([y, np.ones(len(prior), int), np.zeros(len(prior), int)])
    weights = np.concatenate([ones, prior.weight * prior.p_stay, prior.weight * (1 - prior.p_stay)])
    return x, labels, weights


def referrals_training_set(
    features: np.ndarray, referrals: np.ndarray, prior: PriorRows | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (X, y, sample_weight) for the referrals regressor: logged rows, then the prior."""
    y = referrals.astype(float)
    ones = np.ones(len(y))
    if prior is None or len(prior) == 0:
        return features, y, ones
    return (
        np.concatenate([features, prior.features]),
        np.concatenate([y, prior.referrals]),
        np.concatenate([ones, prior.weight]),
    )

"""Keeping the prior: the current model's beliefs become weighted pseudo-rows beside the log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import log_loss

from models.artifact import Artifact
from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from tests.training.test_gate import synthetic_log
from training.fit import fit_models
from training.from_logs import as_rows
from training.prior import distil, referrals_training_set, retention_training_set


def pairs(logged):
    return [(d.incident, d.candidates) for d in logged]


def test_distil_weighs_the_prior_as_strength_logged_decisions():
    logged = synthetic_log(30, seed=1)
    prior = distil(pairs(logged), HeuristicPrior(), strength=500.0, sample=10, seed=2)
    assert len(prior) == 10 * 6  # every candidate of the 10 sampled decisions
    assert prior.weight.sum() == pytest.approx(500.0)
    assert prior.source == "heuristic-prior-1"
    first = logged[int(np.sort(np.random.default_rng(2).permutation(30)[:10])[0])]
    p, r = HeuristicPrior().predict(first.incident, first.candidates)
    np.testing.assert_allclose(prior.p_stay[:6], p)
    np.testing.assert_allclose(prior.referrals[:6], r)
    assert distil([], HeuristicPrior()) is None
    assert distil(pairs(logged), HeuristicPrior(), strength=0) is None


def test_a_soft_label_is_a_pair_of_weighted_hard_ones():
    """Log loss of the pair (1, p*w), (0, (1-p)*w) is w times the cross-entropy with label p."""
    logged = synthetic_log(5, seed=3)
    prior = distil(pairs(logged), HeuristicPrior(), strength=30.0)
    features = np.zeros((2, prior.features.shape[1]))
    x, y, w = retention_training_set(features, np.array([True, False]), prior)
    m = len(prior)
    assert x.shape[0] == 2 + 2 * m and list(y[:2]) == [1, 0] and list(w[:2]) == [1.0, 1.0]
    q = np.full(len(y), 0.37)  # any prediction
    pair = log_loss(y[2:], q[2:], sample_weight=w[2:], normalize=False)
    p = prior.p_stay
    soft = -(prior.weight * (p * np.log(0.37) + (1 - p) * np.log(0.63))).sum()
    assert pair == pytest.approx(soft)
    x, y, w = referrals_training_set(features, np.array([0, 2]), prior)
    assert list(y[:2]) == [0.0, 2.0] and w[2:].sum() == pytest.approx(30.0)


def test_with_few_logged_rows_the_retrained_model_stays_near_the_prior():
    """200 logged outcomes alone give a model far from what the prior knew; with the prior
    distilled beside them it stays near it on plans the log rarely shows."""
    logged = synthetic_log(200, seed=5)
    fresh = synthetic_log(300, seed=6)
    rows = as_rows(logged, ValueSettings())
    prior_scorer = HeuristicPrior()
    prior = distil(pairs(logged), prior_scorer, strength=2000.0, seed=0)
    alone = fit_models(rows, seed=0, progress=False, min_samples_leaf=10)
    kept = fit_models(rows, seed=0, progress=False, prior=prior, min_samples_leaf=10)

    def distance(models):
        scorer = ModelScorer(Artifact(models, {"version": "t"}, Path(".")))
        gaps = [
            np.abs(
                scorer.predict(d.incident, d.candidates)[0]
                - prior_scorer.predict(d.incident, d.candidates)[0]
            ).mean()
            for d in fresh
        ]
        return float(np.mean(gaps))

    assert distance(kept) < 0.5 * distance(alone)


def test_the_prior_improves_the_fit_on_fresh_outcomes_when_the_log_is_small():
    """Log loss on 300 fresh logged plans: 0.72 from 200 rows alone, 0.65 with the prior."""
    logged, fresh = synthetic_log(200, seed=5), synthetic_log(300, seed=6)
    rows, y = as_rows(logged, ValueSettings()), np.array([d.retained for d in fresh])
    prior = distil(pairs(logged), HeuristicPrior(), strength=2000.0, seed=0)

    def loss(models):
        scorer = ModelScorer(Artifact(models, {"version": "t"}, Path(".")))
        p = [scorer.predict(d.incident, [d.candidates[d.logged_index]])[0][0] for d in fresh]
        return log_loss(y, np.clip(p, 1e-6, 1 - 1e-6))

    alone = loss(fit_models(rows, seed=0, progress=False, min_samples_leaf=10))
    kept = loss(fit_models(rows, seed=0, progress=False, prior=prior, min_samples_leaf=10))
    assert kept < alone

"""Negative controls for the promotion gate (issue 25): a model trained on shuffled or inverted
labels is refused by the estimate itself, not only by the side checks (overlap, effective sample
size, support, log loss); and the doubly robust interval widens honestly when the reward model
is poor, instead of lending a bad reward model's confidence to the difference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from models.artifact import Artifact
from models.scorer import ModelScorer
from remedy.decisions.ranker import ValueSettings
from tests.training.test_gate import synthetic_log
from training.fit import fit_models
from training.from_logs import _gate_section, policy_values
from training.gate import promotion_verdict
from training.logged import as_rows, net_values_many
from training.logs import greedy_index
from training.simulator import true_net_value

VALUES = ValueSettings()


class Spendthrift:
    """A poor reward model, sure of itself: the more a plan is worth, the surer the customer
    stays and the more they refer, whatever the incident. Row by row, as a real model is."""

    version = "spendthrift"
    sees_word_of_mouth = True

    def predict(self, incident, plans):
        """Return P(stay) and referrals growing with each plan's value over the loss."""
        loss = max(float(incident.loss_amount), 1.0)
        ratio = np.array([float(p.total_value) for p in plans]) / loss
        return np.clip(0.2 + 0.3 * ratio, 0.0, 0.999), 2.0 * ratio


def _model(rows, name: str) -> ModelScorer:
    """Fit both pipelines on `rows` (small leaves: a few thousand rows) as a scorer."""
    models = fit_models(rows, seed=3, progress=False, max_iter=60, min_samples_leaf=40)
    return ModelScorer(Artifact(models, {"version": name}, Path(".")))


@pytest.fixture(scope="module")
def controls():
    """An honest model and two negative controls trained on the same logged decisions, and a
    later holdout logged uniformly at random (full support, weights of 6: nothing clipped)."""
    rows = as_rows(synthetic_log(4000, seed=11), VALUES)
    rng = np.random.default_rng(5)
    shuffled = dataclasses.replace(
        rows,
        retained=rng.permutation(rows.retained),
        referrals=rng.permutation(rows.referrals),
    )
    inverted = dataclasses.replace(
        rows, retained=~rows.retained, referrals=(rows.referrals == 0).astype(int)
    )
    return {
        "honest": _model(rows, "honest"),
        "shuffled": _model(shuffled, "shuffled"),
        "inverted": _model(inverted, "inverted"),
        "holdout": synthetic_log(1500, seed=12),
    }


def _true_difference(holdout, candidate, current) -> float:
    """The simulator's truth: mean true net value of the candidate's picks minus the current's."""
    totals = []
    for scorer in (candidate, current):
        values = net_values_many(scorer, holdout, VALUES)
        totals.append(
            np.mean(
                [
                    true_net_value(d.incident, d.candidates[greedy_index(v, d.candidates)])
                    for v, d in zip(values, holdout, strict=True)
                ]
            )
        )
    return float(totals[0] - totals[1])


def _passing_side_checks(report) -> dict:
    """The card's gate section with a log loss comparison the candidate wins, so that only the
    estimate can refuse it."""
    losses = {"rows": report.rows, "candidate": 0.1, "current": 0.2}
    return {"metrics": {"gate": _gate_section(report, losses)}}


@pytest.mark.parametrize("control", ["shuffled", "inverted"])
def test_a_model_trained_on_broken_labels_is_refused_by_the_estimate_itself(controls, control):
    candidate, current, holdout = controls[control], controls["honest"], controls["holdout"]
    assert _true_difference(holdout, candidate, current) < 0  # the control is worse, in truth
    report = policy_values(holdout, candidate, current, VALUES, seed=1)
    assert report.comparison is not None
    dr = report.comparison.difference("doubly_robust")
    # the estimate itself: its point and its interval say "not better"
    assert dr.value < 0 and dr.low < 0, dr
    promote, why = promotion_verdict(_passing_side_checks(report))
    # overlap, effective sample size, support and log loss all pass: the estimate refused it
    assert not promote and why.startswith("not shown better"), why


def test_the_doubly_robust_interval_widens_honestly_with_a_poor_reward_model(controls):
    """With the logging propensities known and nothing clipped, DR stays unbiased whatever the
    reward model; a poor one (self-assured, fitted to nothing) leaves larger
    residuals, and the bootstrap over rows turns them into a wider interval that still covers
    the truth, rather than a narrow one around the reward model's opinion."""
    candidate, current, holdout = controls["shuffled"], controls["honest"], controls["holdout"]
    truth = _true_difference(holdout, candidate, current)
    good = policy_values(holdout, candidate, current, VALUES, seed=1)
    poor = policy_values(
        holdout,
        candidate,
        current,
        VALUES,
        seed=1,
        fit=lambda decisions, values, seed: Spendthrift(),
    )
    assert good.comparison is not None and poor.comparison is not None
    dr_good = good.comparison.difference("doubly_robust")
    dr_poor = poor.comparison.difference("doubly_robust")
    assert dr_poor.high - dr_poor.low > 1.5 * (dr_good.high - dr_good.low)
    assert dr_poor.low <= truth <= dr_poor.high
    assert dr_good.low <= truth <= dr_good.high

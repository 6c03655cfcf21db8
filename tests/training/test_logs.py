"""Logged decisions: the exploring policy and the simulated logs."""

from __future__ import annotations

import numpy as np
import pytest

from models.features import FEATURE_NAMES
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from tests.factories import make_incident
from training.candidates import candidate_plans
from training.logs import EpsilonGreedy, simulate_logs, time_split


def test_epsilon_greedy_favours_the_ranker_best_plan():
    """The ranker's best plan gets 1 - eps + eps/K, every other plan eps/K."""
    incident = make_incident()
    plans = candidate_plans(incident)
    probs = EpsilonGreedy(HeuristicPrior(), epsilon=0.2).probabilities(incident, plans)
    assert probs.sum() == pytest.approx(1.0)
    best = PlanRanker(HeuristicPrior()).rank(incident, plans)[0].plan
    assert probs[plans.index(best)] == pytest.approx(0.8 + 0.2 / len(plans))
    assert np.sort(probs)[-2] == pytest.approx(0.2 / len(plans))


def test_logs_record_propensities_outcomes_and_time_order():
    """Each row has features, a propensity the policy gave, an outcome, and a later timestamp."""
    policy = EpsilonGreedy(HeuristicPrior(), epsilon=0.5)
    rows = simulate_logs(300, seed=3, policy=policy, keep_incidents=True, progress=False)
    assert rows.features.shape == (300, len(FEATURE_NAMES))
    assert len(rows.incidents) == 300
    incident = rows.incidents[17]
    plans = candidate_plans(incident)
    expected = policy.probabilities(incident, plans)[rows.logged_index[17]]
    assert rows.propensity[17] == pytest.approx(expected)
    assert set(np.unique(rows.retained)) == {False, True}
    assert (rows.referrals >= 0).all()
    assert (np.diff(rows.decided_at.astype(np.int64)) >= 0).all()


def test_logs_repeat_for_a_seed_whatever_the_number_of_workers():
    """Two worker processes produce the very rows one process produces."""
    one = simulate_logs(2100, seed=5, n_jobs=1, progress=False)
    two = simulate_logs(2100, seed=5, n_jobs=2, progress=False)
    np.testing.assert_array_equal(one.features, two.features)
    np.testing.assert_array_equal(one.retained, two.retained)
    np.testing.assert_array_equal(one.reward, two.reward)


def test_time_split_holds_out_the_latest_rows():
    """The holdout is the latest slice, in order."""
    rows = simulate_logs(200, seed=1, progress=False)
    train, holdout = time_split(rows, holdout_fraction=0.25)
    assert (len(train), len(holdout)) == (150, 50)
    assert train.decided_at.max() <= holdout.decided_at.min()
    with pytest.raises(ValueError):
        time_split(rows, holdout_fraction=1.0)

"""Off-policy estimators against hand-computed cases and a biased logging policy."""

from __future__ import annotations

import numpy as np
import pytest

from training.offpolicy import doubly_robust, ips, snips

# A hand-computed case: weights w = pi / mu = [2, 0, 2, 0.625].
REWARDS = [1.0, 0.0, 2.0, 4.0]
PROPENSITIES = [0.5, 0.25, 0.5, 0.8]
TARGET = [1.0, 0.0, 1.0, 0.5]
Q_LOGGED = [1.5, 0.5, 1.0, 3.0]
Q_TARGET = [1.2, 0.8, 1.6, 2.0]


def test_ips_by_hand():
    """IPS = mean(w * r) = (2 + 0 + 4 + 2.5) / 4."""
    assert ips(REWARDS, PROPENSITIES, TARGET, n_boot=50).value == pytest.approx(2.125)


def test_snips_by_hand():
    """SNIPS = sum(w * r) / sum(w) = 8.5 / 4.625."""
    assert snips(REWARDS, PROPENSITIES, TARGET, n_boot=50).value == pytest.approx(8.5 / 4.625)


def test_doubly_robust_by_hand():
    """DR = mean(q_target + w * (r - q_logged)) = (0.2 + 0.8 + 3.6 + 2.625) / 4."""
    estimate = doubly_robust(REWARDS, PROPENSITIES, TARGET, Q_LOGGED, Q_TARGET, n_boot=50)
    assert estimate.value == pytest.approx(7.225 / 4)
    assert estimate.method == "doubly_robust"


def test_intervals_are_seeded_and_contain_the_estimate():
    """The bootstrap interval repeats for a seed, brackets the estimate, and uses the level."""
    a = ips(REWARDS * 50, PROPENSITIES * 50, TARGET * 50, seed=3, confidence=0.9)
    b = ips(REWARDS * 50, PROPENSITIES * 50, TARGET * 50, seed=3, confidence=0.9)
    assert a == b
    assert a.low <= a.value <= a.high
    assert a.confidence == 0.9 and a.n == 200
    wider = ips(REWARDS * 50, PROPENSITIES * 50, TARGET * 50, seed=3, confidence=0.99)
    assert wider.high - wider.low > a.high - a.low


def test_bad_inputs_are_refused():
    """Zero propensities, mismatched lengths and empty logs are errors, not numbers."""
    with pytest.raises(ValueError, match="propensities"):
        ips([1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="length"):
        ips([1.0, 2.0], [0.5], [1.0])
    with pytest.raises(ValueError, match="no logged"):
        ips([], [], [])
    with pytest.raises(ValueError, match="never chooses"):
        snips([1.0], [0.5], [0.0])


@pytest.fixture
def biased_log():
    """A log where the logging policy shows the worse action 90% of the time."""
    rng = np.random.default_rng(11)
    n = 20_000
    chose_b = rng.random(n) < 0.1  # action A: mean reward 0.2; action B: mean reward 0.8
    rewards = np.where(chose_b, rng.random(n) < 0.8, rng.random(n) < 0.2).astype(float)
    propensities = np.where(chose_b, 0.1, 0.9)
    always_b = chose_b.astype(float)  # the target policy always picks B: true value 0.8
    return rewards, propensities, always_b


def test_ips_corrects_a_biased_logging_policy(biased_log):
    """The naive average reflects the logging policy (0.26); IPS recovers the target's 0.8."""
    rewards, propensities, target = biased_log
    assert rewards.mean() == pytest.approx(0.26, abs=0.02)
    estimate = ips(rewards, propensities, target, n_boot=300)
    assert estimate.value == pytest.approx(0.8, abs=0.04)
    assert estimate.low < 0.8 < estimate.high
    assert snips(rewards, propensities, target, n_boot=300).value == pytest.approx(0.8, abs=0.03)


def test_doubly_robust_needs_only_one_of_propensities_or_reward_model(biased_log):
    """Right propensities + useless model, or wrong propensities + right model: both near 0.8."""
    rewards, propensities, target = biased_log
    chose_b = target == 1.0
    zeros = np.zeros_like(rewards)
    bad_model = doubly_robust(rewards, propensities, target, zeros, zeros, n_boot=200)
    assert bad_model.value == pytest.approx(0.8, abs=0.04)
    true_q_logged = np.where(chose_b, 0.8, 0.2)
    wrong_propensities = np.full_like(rewards, 0.5)
    good_model = doubly_robust(
        rewards, wrong_propensities, target, true_q_logged, np.full_like(rewards, 0.8), n_boot=200
    )
    assert good_model.value == pytest.approx(0.8, abs=0.02)

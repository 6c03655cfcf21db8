"""Off-policy estimators against hand-computed cases, a biased logging policy, and brute-force
properties on small synthetic logs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.offpolicy import compare, doubly_robust, effective_sample_size, ips, snips

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


# --- Properties on small synthetic logs (hypothesis), against brute-force expectations ---

PROPENSITY = st.floats(0.05, 1.0)
REWARD = st.floats(-500.0, 500.0, allow_nan=False)


@st.composite
def small_logs(draw, min_size=1, max_size=12):
    """A log of a few rows: propensities, a deterministic target (0/1), at least one agreement."""
    n = draw(st.integers(min_size, max_size))
    propensities = draw(st.lists(PROPENSITY, min_size=n, max_size=n))
    target = draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n))
    target[draw(st.integers(0, n - 1))] = 1.0
    return np.array(propensities), np.array(target)


@settings(max_examples=40, deadline=None)
@given(log=small_logs(), reward=REWARD)
def test_equal_rewards_give_snips_and_dr_a_point_interval(log, reward):
    """All rewards r: SNIPS is r on every resample that has weight (the rest are skipped, not
    0), and DR with a reward model that predicts r is r on every resample."""
    propensities, target = log
    rewards = np.full(len(target), reward)
    estimate = snips(rewards, propensities, target, n_boot=200)
    assert (estimate.value, estimate.low, estimate.high) == pytest.approx((reward,) * 3)
    dr = doubly_robust(rewards, propensities, target, rewards, rewards, n_boot=200, max_weight=5)
    assert (dr.value, dr.low, dr.high) == pytest.approx((reward,) * 3)


def test_snips_with_sparse_agreement_is_not_pulled_to_zero():
    """The issue's case: rewards all 120, the target agreeing with the log on one row in fifty.
    Many resamples miss that row; they used to count as 0 and the interval came out [0, 120]."""
    n = 50
    target = np.zeros(n)
    target[7] = 1.0
    estimate = snips(np.full(n, 120.0), np.full(n, 0.5), target, n_boot=500)
    assert (estimate.value, estimate.low, estimate.high) == (120.0, 120.0, 120.0)


@settings(max_examples=40, deadline=None)
@given(rewards=st.lists(REWARD, min_size=1, max_size=12), q=REWARD)
def test_a_deterministic_logging_policy_equal_to_the_target_gives_the_logged_mean(rewards, q):
    """Propensity 1 and the target always agreeing: IPS, SNIPS and DR (any reward model) are
    the logged mean, and their intervals are the bootstrap of that mean."""
    r = np.array(rewards)
    ones = np.ones(len(r))
    found = [
        ips(r, ones, ones, n_boot=100),
        snips(r, ones, ones, n_boot=100),
        doubly_robust(r, ones, ones, np.full(len(r), q), np.full(len(r), q), n_boot=100),
    ]
    for estimate in found:
        assert estimate.value == pytest.approx(r.mean(), abs=1e-9)
        assert (estimate.low, estimate.high) == pytest.approx((found[0].low, found[0].high))


@settings(max_examples=30, deadline=None)
@given(log=small_logs(min_size=2, max_size=6), rewards=st.lists(REWARD, min_size=6, max_size=6))
def test_snips_interval_is_the_brute_force_one(log, rewards):
    """The bootstrap by hand: the same resamples, SNIPS by a loop, resamples without weight left
    out, then the percentile interval."""
    propensities, target = log
    n = len(target)
    r = np.array(rewards[:n])
    estimate = snips(r, propensities, target, n_boot=300, seed=5)
    resamples = np.random.default_rng(5).integers(0, n, size=(300, n))
    by_hand = []
    for idx in resamples:
        w = target[idx] / propensities[idx]
        if w.sum() > 0:
            by_hand.append(float((w * r[idx]).sum() / w.sum()))
    low, high = np.quantile(by_hand, [0.025, 0.975])
    assert (estimate.low, estimate.high) == pytest.approx((low, high))


def test_effective_sample_size_by_hand():
    """Equal weights count fully, one dominant weight counts once, zero weights not at all."""
    assert effective_sample_size(np.full(40, 3.0)) == pytest.approx(40)
    assert effective_sample_size(np.array([100.0, 0.0, 0.0, 0.0])) == pytest.approx(1)
    assert effective_sample_size(np.array([2.0, 2.0, 0.0, 0.0])) == pytest.approx(2)
    assert effective_sample_size(np.zeros(5)) == 0.0


def test_compare_is_paired_and_reports_overlap():
    """New minus old on the same resamples: swapping the policies flips the sign exactly;
    agreement and ESS are each policy's own; weights above the clip are counted."""
    rewards = np.array([10.0, 0.0, 30.0, 5.0, 20.0, 8.0])
    propensities = np.array([0.5, 0.5, 0.01, 0.5, 0.25, 0.5])
    new = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    old = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 1.0])
    q = np.full(6, 10.0)
    ab = compare(rewards, propensities, new, old, q, q, q, max_weight=50.0, n_boot=300)
    ba = compare(rewards, propensities, old, new, q, q, q, max_weight=50.0, n_boot=300)
    for one, other in zip(ab.differences, ba.differences, strict=True):
        assert one.method == other.method
        assert one.value == pytest.approx(-other.value)
        assert (one.low, one.high) == pytest.approx((-other.high, -other.low))
    assert [e.method for e in ab.differences] == ["ips", "snips", "doubly_robust"]
    assert ab.new.agreement == pytest.approx(0.5) and ab.old.agreement == pytest.approx(4 / 6)
    assert ab.new.clipped == pytest.approx(1 / 6) and ab.old.clipped == 0.0
    assert ab.new.ess == pytest.approx(effective_sample_size(np.array([2.0, 100.0, 2.0])))
    dr_by_hand = np.mean(np.minimum(new / propensities, 50) * (rewards - q)) - np.mean(
        old / propensities * (rewards - q)
    )
    assert ab.difference("doubly_robust").value == pytest.approx(dr_by_hand)

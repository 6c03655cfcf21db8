"""Champion/challenger's pure parts: the arm of a customer, and the sequential test's guarantees
on simulated A/A data (false promotion at most alpha while watched after every outcome) and A/B
data (a real difference is found)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from remedy.decisions.experiments import (
    CHALLENGER,
    CHAMPION,
    PROMOTE,
    RETIRE,
    SequentialPlan,
    arm_for,
    best_rho,
    boundary,
    compare,
    interval,
    predictable_baseline,
    pseudo_outcomes,
    running_intervals,
    usd,
)


def test_a_customer_always_sees_one_arm_and_the_share_holds():
    share = Decimal("0.2")
    arms = [arm_for("emea", f"c-{i}", "exp-1", share) for i in range(20000)]
    assert arms == [arm_for("emea", f"c-{i}", "exp-1", share) for i in range(20000)]
    on = sum(a == CHALLENGER for a in arms) / len(arms)
    assert abs(on - 0.2) < 0.012  # four standard errors of 20,000 draws
    # A new experiment (or another team's customer of the same id) is drawn afresh:
    # independent draws agree with probability 0.8^2 + 0.2^2 = 0.68.
    again = [arm_for("emea", f"c-{i}", "exp-2", share) for i in range(20000)]
    other_team = [arm_for("apac", f"c-{i}", "exp-1", share) for i in range(20000)]
    assert 0.66 < np.mean([a == b for a, b in zip(arms, again, strict=True)]) < 0.70
    assert 0.66 < np.mean([a == b for a, b in zip(arms, other_team, strict=True)]) < 0.70
    assert {arm_for("emea", "x", "e", Decimal("0.000000000001")) for _ in range(3)} == {CHAMPION}


def test_the_boundary_is_confseqs_two_sided_normal_mixture():
    # confseq's uniform_boundaries.h, TwoSidedNormalMixture: sqrt((v + rho)(log(1 + v/rho) +
    # 2 log(1/alpha))), rho = v_opt / (2 log(1/alpha) + log(1 + 2 log(1/alpha))); by hand:
    rho = best_rho(1000.0, 0.05)
    assert rho == pytest.approx(1000 / (2 * np.log(20) + np.log(1 + 2 * np.log(20))))
    assert boundary(500.0, 0.05, rho) == pytest.approx(
        np.sqrt((500 + rho) * (np.log(1 + 500 / rho) + 2 * np.log(20)))
    )
    # Wider than a fixed-sample 95% interval at every time (the price of watching).
    plan = SequentialPlan(share=0.5, max_per_arm=1000)
    t = np.array([10.0, 100.0, 2000.0, 100000.0])
    assert np.all(plan.radius(t, 1.0) > 1.96 / np.sqrt(t))


def test_pseudo_outcomes_average_to_the_difference():
    rng = np.random.default_rng(3)
    arms = rng.random(400000) < 0.1
    rewards = np.where(arms, 12.0, 10.0) + rng.normal(0, 5, arms.size)
    assert pseudo_outcomes(rewards, arms, 0.1).mean() == pytest.approx(2.0, abs=0.25)


def _world(rng, n, share, lift):
    """n decisions: arm by share; reward = stay x a skewed customer value - cost, as net value
    is; the challenger's customers stay `lift` more often."""
    on = rng.random(n) < share
    stay = rng.random(n) < np.where(on, 0.8 + lift, 0.8)
    return stay * rng.lognormal(6, 0.8, n) - rng.gamma(2, 50, n), on


def _first_stop(rewards, on, plan):
    """Watch after every outcome; return the decision at the first stop (None: never)."""
    low, high = running_intervals(pseudo_outcomes(rewards, on, plan.share), plan)
    per_arm = np.minimum(np.cumsum(on), np.cumsum(~on))
    ready = per_arm >= plan.min_per_arm
    stop = ready & ((low > 0) | (high < 0) | (per_arm >= plan.max_per_arm))
    if not stop.any():
        return None
    i = int(np.argmax(stop))
    return PROMOTE if low[i] > 0 else RETIRE


def test_a_a_false_promotion_stays_below_alpha_when_watched_after_every_outcome():
    rng = np.random.default_rng(2025)
    plan = SequentialPlan(share=0.2, alpha=0.05, max_per_arm=1500)
    runs = 400
    promoted = sum(
        _first_stop(*_world(rng, 12000, plan.share, 0.0), plan) == PROMOTE for _ in range(runs)
    )
    # At most alpha (the two-sided sequence gives each side about alpha / 2).
    assert promoted / runs <= plan.alpha


def test_a_b_a_real_difference_is_found_and_a_worse_challenger_retired():
    rng = np.random.default_rng(11)
    plan = SequentialPlan(share=0.3, alpha=0.05, max_per_arm=3000)
    better = [_first_stop(*_world(rng, 12000, plan.share, 0.12), plan) for _ in range(50)]
    worse = [_first_stop(*_world(rng, 12000, plan.share, -0.12), plan) for _ in range(50)]
    assert better.count(PROMOTE) >= 45
    assert worse.count(RETIRE) == 50 and worse.count(PROMOTE) == 0


def test_compare_waits_for_enough_outcomes_and_says_why():
    plan = SequentialPlan(share=0.5, min_per_arm=30, max_per_arm=100)
    few = compare([1.0] * 40, [CHAMPION] * 30 + [CHALLENGER] * 10, plan)
    assert (few.decision, few.reason, few.n) == (
        "continue",
        "too_few",
        {"champion": 30, "challenger": 10},
    )
    assert few.mean == {"champion": 1.0, "challenger": 1.0} and few.low is None
    rng = np.random.default_rng(5)
    tied = rng.normal(100, 20, 200)
    arms = [CHALLENGER if i % 2 else CHAMPION for i in range(200)]
    done = compare(tied, arms, plan)
    assert (done.decision, done.reason) == (RETIRE, "max_sample")
    assert done.low < done.difference < done.high
    mean, low, high = interval(pseudo_outcomes(tied, np.array(arms) == CHALLENGER, 0.5), plan)
    assert (usd(mean), usd(low), usd(high)) == (done.difference, done.low, done.high)


def _valued_world(rng, n, share, lift):
    """As `_world`, with each customer's value returned too: the baseline's covariate."""
    on = rng.random(n) < share
    value = rng.lognormal(6, 1.1, n)
    stay = rng.random(n) < np.where(on, 0.85 + lift, 0.85)
    return stay * value - rng.gamma(2, 50, n), on, value


def test_the_baseline_is_predictable_it_never_looks_at_the_decision_or_later_ones():
    rng = np.random.default_rng(8)
    rewards, _, value = _valued_world(rng, 500, 0.5, 0.0)
    baseline = predictable_baseline(rewards, value)
    changed = rewards.copy()
    changed[200:] += rng.normal(0, 1000, 300)  # decision 200 onwards turn out otherwise
    assert np.array_equal(predictable_baseline(changed, value)[:201], baseline[:201])
    assert baseline[0] == 0.0
    # without a covariate: the running mean of the rewards before
    assert predictable_baseline(rewards)[1:] == pytest.approx(
        np.cumsum(rewards)[:-1] / np.arange(1, 500)
    )
    # a line once the covariate varies: exactly least squares over the earlier decisions
    slope, intercept = np.polyfit(value[:300], rewards[:300], 1)
    assert baseline[300] == pytest.approx(intercept + slope * value[300])


def test_a_a_with_the_covariate_false_promotion_stays_below_alpha():
    rng = np.random.default_rng(77)
    plan = SequentialPlan(share=0.5, alpha=0.05, max_per_arm=1500)
    promoted = 0
    for _ in range(400):
        rewards, on, value = _valued_world(rng, 4000, plan.share, 0.0)
        low, _ = running_intervals(pseudo_outcomes(rewards, on, plan.share, value), plan)
        per_arm = np.minimum(np.cumsum(on), np.cumsum(~on))
        promoted += bool(np.any((low > 0) & (per_arm >= plan.min_per_arm)))
    assert promoted / 400 <= plan.alpha


def test_the_covariate_narrows_the_interval_and_keeps_the_estimate():
    """Centring on the customer's worth removes most of the spread (the worth times a coin is
    what is left), so the same difference is told apart with far fewer customers."""
    rng = np.random.default_rng(21)
    plan = SequentialPlan(share=0.5, alpha=0.05, max_per_arm=4000)
    widths, estimates, truth = {"raw": [], "mean": [], "worth": []}, [], []
    for _ in range(40):
        rewards, on, value = _valued_world(rng, 8000, plan.share, 0.03)
        raw = np.where(on, rewards / 0.5, -rewards / 0.5)
        for name, phi in (
            ("raw", raw),
            ("mean", pseudo_outcomes(rewards, on, 0.5)),
            ("worth", pseudo_outcomes(rewards, on, 0.5, value)),
        ):
            mean, low, high = interval(phi, plan)
            widths[name].append(high - low)
        estimates.append(interval(pseudo_outcomes(rewards, on, 0.5, value), plan)[0])
        truth.append(rewards[on].mean() - rewards[~on].mean())
    assert np.median(widths["mean"]) < 0.95 * np.median(widths["raw"])
    assert np.median(widths["worth"]) < 0.5 * np.median(widths["mean"])
    # unbiased: over the runs, the estimate's mean error is small against one run's width
    error = np.mean(np.array(estimates) - np.array(truth))
    assert abs(error) < 0.1 * np.median(widths["worth"])
    assert abs(np.mean(estimates) - 0.03 * np.exp(6 + 1.1**2 / 2)) < 0.2 * np.median(
        widths["worth"]
    )

"""Adaptive exploration: more where the top plans' values are close, exact logged propensities,
and none on the protected incidents."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest

from remedy.decisions.exploration import ExplorationPolicy, explorable
from tests.factories import make_incident

ADAPTIVE = ExplorationPolicy(Decimal("0.10"), top_k=5, closeness=Decimal("0.05"))


def test_close_plans_are_explored_more_and_far_ones_almost_never():
    values = [Decimal(v) for v in ("1000", "999", "950", "500", "-2000", "-3000")]
    p = ADAPTIVE.propensities(6, values=values)
    assert sum(p) == 1 and p[5] == 0  # outside the top K
    assert p[1] > p[2] > p[3] > p[4] > 0
    # A near tie gets up to twice the uniform share (0.2 / 5 = 0.04); the uniform rule: 0.02.
    assert p[1] == Decimal("0.039215686274")  # 0.04 x 0.05 / (0.05 + 0.001), 12 places down
    assert p[1] > ExplorationPolicy(Decimal("0.10"), 5).propensities(6)[1]
    assert p[4] < Decimal("0.001")
    far = ADAPTIVE.propensities(2, values=[Decimal("10"), Decimal("-1e12")])
    assert far == [1 - Decimal("1e-12"), Decimal("1e-12")]  # never exactly never: support holds


def test_without_values_or_closeness_the_uniform_rule_holds():
    assert ADAPTIVE.propensities(3) == ExplorationPolicy(Decimal("0.10"), 5).propensities(3)
    off = ExplorationPolicy(Decimal(0), 5, Decimal("0.05"))
    assert off.propensities(3, values=[Decimal(1)] * 3) == [1, 0, 0]
    rng = random.Random(2)
    assert {off.choose_first(3, rng, values=[Decimal(1)] * 3) for _ in range(50)} == {
        (0, Decimal(1))
    }
    with pytest.raises(ValueError, match="closeness"):
        ExplorationPolicy(Decimal("0.1"), 5, Decimal(0))


def test_draws_match_the_logged_propensities_exactly():
    values = [Decimal(v) for v in ("100", "99", "90", "60")]
    rng = random.Random(7)
    draws = [ADAPTIVE.choose_first(4, rng, values=values) for _ in range(60000)]
    p = ADAPTIVE.propensities(4, values=values)
    for index, propensity in draws[:200]:
        assert propensity == p[index]  # the logged figure is the one drawn with
    counts = Counter(index for index, _ in draws)
    for index in range(4):
        assert counts[index] / 60000 == pytest.approx(float(p[index]), abs=0.004)


def test_protected_incidents_and_waiting_plans_are_never_explored():
    values = [Decimal(100), Decimal(100), Decimal(100)]
    rng = random.Random(3)
    for protected in (
        make_incident(severity=4),
        make_incident(public=True),
        make_incident(prior_incidents=1),
        make_incident(churn_threat=True),
        make_incident(customer_status="left"),
    ):
        eligible = explorable(protected, [False, False, False])
        assert ADAPTIVE.propensities(3, eligible, values) == [1, 0, 0]
        assert {ADAPTIVE.choose_first(3, rng, eligible, values) for _ in range(30)} == {
            (0, Decimal(1))
        }
    eligible = explorable(make_incident(), [False, True, False])
    p = ADAPTIVE.propensities(3, eligible, values)
    assert p[1] == 0 and p[2] > 0 and sum(p) == 1

"""One definition of value (issue 25): the ranker ranks by the estimand the gate estimates."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, PlanRanker, ValueSettings
from remedy.decisions.value import AssumedWordOfMouth, net_value, valued
from remedy.money import minor_exponent
from tests.factories import make_incident
from training.candidates import candidate_plans
from training.logged import LoggedDecision, _reward, net_values_many
from training.simulator import FX_PER_USD, realized_net_value, true_net_value, true_response

PUBLIC_HATER = make_incident(
    channel="review", reach=25_000, churn_threat=True, prior_incidents=2, severity=4
)
INCIDENTS = (
    make_incident(),
    PUBLIC_HATER,
    make_incident(customer_status="left", currency="JPY", customer_value="180000"),
    make_incident(public=True, currency="USD"),
)


def _decision(incident, plans) -> LoggedDecision:
    """A logged decision of `incident` whose every candidate the gate may value."""
    return LoggedDecision(incident, plans, 0, 0, 1.0, True, 0, datetime(2026, 1, 1, tzinfo=UTC))


def _ranker_and_gate(scorer, incident) -> tuple[np.ndarray, np.ndarray]:
    """Return the ranker's expected net value of every plan and the gate's q(x, a), in USD."""
    plans = candidate_plans(incident)[:60]
    rate = FX_PER_USD[incident.currency]
    ranked = PlanRanker(scorer).score(incident, plans)
    ranker = np.array([float(s.expected_net_value) for s in ranked]) / rate
    (gate,) = net_values_many(scorer, [_decision(incident, plans)], ValueSettings())
    return ranker, gate


@pytest.mark.parametrize("incident", INCIDENTS, ids=("private", "public", "left", "said-public"))
def test_the_rankers_value_of_a_plan_is_the_gates_estimand_for_it(in_memory_artifact, incident):
    """A trained model (feature version 2) and the prior: the ranker's expected net value of
    each plan equals the q(x, a) the gate's estimators use for it, to the ranker's rounding."""
    for scorer in (ModelScorer(in_memory_artifact), HeuristicPrior()):
        ranker, gate = _ranker_and_gate(scorer, incident)
        unit = 10.0 ** -minor_exponent(incident.currency) / FX_PER_USD[incident.currency]
        np.testing.assert_allclose(ranker, gate, rtol=0, atol=unit + 1e-6 * gate.std())


def test_word_of_mouth_is_counted_once(in_memory_artifact):
    """A model that sees public and reach values plans by its own referrals alone; the prior,
    which cannot, gets the documented assumption moved into its predictions, and the value is
    the formula the ranker used before issue 25."""
    model = ModelScorer(in_memory_artifact)
    assert model.sees_word_of_mouth and valued(model, ValueSettings()) is model
    plans = candidate_plans(PUBLIC_HATER)[:20]
    p, r = model.predict(PUBLIC_HATER, plans)
    ranked = PlanRanker(model).score(PUBLIC_HATER, plans)
    value = float(PUBLIC_HATER.customer_value)
    expected = [
        net_value(pi, ri, value, float(pl.total_cost), ValueSettings())
        for pi, ri, pl in zip(p, r, plans, strict=True)
    ]
    np.testing.assert_allclose([float(s.expected_net_value) for s in ranked], expected, atol=0.01)

    prior = HeuristicPrior()
    assumed = valued(prior, ValueSettings())
    assert isinstance(assumed, AssumedWordOfMouth) and valued(assumed, ValueSettings()) is assumed
    p, r = prior.predict(PUBLIC_HATER, plans)
    words = 0.5 * math.log10(25_001)
    before = [
        (pi * (1 + words) + ri * 0.5 * (1 + words)) * value - float(pl.total_cost)
        for pi, ri, pl in zip(p, r, plans, strict=True)
    ]
    ranked = PlanRanker(prior).score(PUBLIC_HATER, plans)
    np.testing.assert_allclose([float(s.expected_net_value) for s in ranked], before, atol=0.01)
    # a private incident gets nothing added
    private = replace(PUBLIC_HATER, channel="email", reach=None)
    np.testing.assert_array_equal(
        assumed.predict(private, plans)[1], prior.predict(private, plans)[1]
    )


def test_the_reward_is_the_same_function_of_what_happened():
    """The gate's reward of a logged decision, the simulator's realised and true values are
    `net_value` of outcomes in place of predictions: its expectation is the ranker's value."""
    incident = PUBLIC_HATER
    plans = candidate_plans(incident)[:5]
    d = replace(_decision(incident, plans), retained=True, referrals=3, logged_index=2)
    cost = float(plans[2].total_cost)
    expected = net_value(1, 3, float(incident.customer_value), cost, ValueSettings())
    assert _reward(d, ValueSettings()) == pytest.approx(expected / FX_PER_USD["EUR"])
    assert realized_net_value(incident, plans[2], True, 3) == pytest.approx(expected / 0.92)
    p, r = true_response(incident, plans[2])
    truth = net_value(p, r, float(incident.customer_value), cost, ValueSettings()) / 0.92
    assert true_net_value(incident, plans[2]) == pytest.approx(truth)
    # linear in both outcomes: the mean of realised values is the value of the mean outcome
    draws = [(s, k) for s in (0, 1) for k in (0, 1, 4)]
    mean = np.mean([realized_net_value(incident, plans[2], bool(s), k) for s, k in draws])
    assert mean == pytest.approx(
        net_value(0.5, 5 / 3, float(incident.customer_value), cost, ValueSettings()) / 0.92
    )

"""The promotion gate: it cannot grade a model with itself, and it says why it refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from training.candidates import candidate_plans
from training.from_logs import (
    LoggedDecision,
    _gate_section,
    _net_values,
    _reward,
    cross_fitted_values,
    currencies_without_rate,
    net_value_calibration,
    policy_values,
    retention_log_loss,
)
from training.gate import MAX_OUTSIDE_SUPPORT, MIN_AGREEMENT, MIN_ESS, promotion_verdict
from training.logged import net_values_many
from training.simulator import random_incident, simulate_outcome

PLANS_PER_DECISION = 6  # the first few candidates: enough choice, fast to score


def synthetic_log(n: int, seed: int = 0, currency: str | None = None) -> list[LoggedDecision]:
    """Decisions logged uniformly at random over a few candidates, outcomes from the simulator."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    logged = []
    for i in range(n):
        incident = random_incident(rng, index=i)
        if currency:
            incident = dataclasses.replace(incident, currency=currency)
        plans = candidate_plans(incident)[:PLANS_PER_DECISION]
        chosen = int(rng.integers(len(plans)))
        retained, referrals = simulate_outcome(incident, plans[chosen], rng)
        logged.append(
            LoggedDecision(
                incident=incident,
                candidates=plans,
                logged_index=chosen,
                shown_index=chosen,
                propensity=1.0 / len(plans),
                retained=retained,
                referrals=referrals,
                decided_at=start + timedelta(minutes=i),
            )
        )
    return logged


class Optimist:
    """A model sure that the dearest plan keeps every customer: the kind that grades itself well."""

    version = "optimist"

    def predict(self, incident, plans):
        """Return P(stay) 0.999 and many referrals for the dearest plan, nothing for the rest."""
        dearest = max(range(len(plans)), key=lambda i: plans[i].total_cost)
        p_stay = np.full(len(plans), 0.001)
        p_stay[dearest] = 0.999
        referrals = np.zeros(len(plans))
        referrals[dearest] = 5.0
        return p_stay, referrals


def test_each_row_is_predicted_by_a_reward_model_that_did_not_see_it():
    """Cross-fitting: every fold's model is fitted on the other folds, and the caller passes no
    model at all, so the model under evaluation cannot serve as its own reward model."""
    logged = synthetic_log(23)
    fitted = []

    class Recording:
        version = "recording"

        def __init__(self, seen):
            self.seen = seen

        def predict(self, incident, plans):
            assert id(incident) not in self.seen, "a row predicted by a model that saw it"
            return np.full(len(plans), 0.5), np.zeros(len(plans))

    def fit(decisions, values, seed):
        seen = {id(d.incident) for d in decisions}
        fitted.append(seen)
        return Recording(seen)

    out = cross_fitted_values(logged, ValueSettings(), folds=5, fit=fit)
    assert len(fitted) == 5 and len(out) == 23
    assert all(len(v) == PLANS_PER_DECISION for v in out)
    assert sorted(len(seen) for seen in fitted) == [18, 18, 18, 19, 19]  # 23 - fold size


def test_a_self_assured_candidate_is_not_promoted_on_its_own_say_so():
    """The optimist rates its picks at nearly the customer's full value; the cross-fitted reward
    model does not share that opinion, and neither do the outcomes: no promotion."""
    logged = synthetic_log(400, seed=4)
    values = ValueSettings()
    report = policy_values(logged, Optimist(), HeuristicPrior(), values, seed=1)
    card = {"metrics": {"gate": _gate_section(report)}}
    promote, why = promotion_verdict(card)
    assert not promote, why
    dr = next(e for e in report.estimates["candidate"] if e.method == "doubly_robust")
    ips = next(e for e in report.estimates["candidate"] if e.method == "ips")
    assert dr.low <= ips.high  # DR is not off on its own, above what the outcomes support


def test_the_same_model_on_both_sides_differs_by_exactly_nothing():
    """Paired: the same policy against itself gives a zero difference with a zero-width interval."""
    logged = synthetic_log(60, seed=2)
    prior = HeuristicPrior()
    report = policy_values(logged, prior, prior, ValueSettings(), folds=3)
    assert report.comparison is not None
    for estimate in report.comparison.differences:
        assert (estimate.value, estimate.low, estimate.high) == (0.0, 0.0, 0.0)
    assert report.comparison.new == report.comparison.old


def gate(
    dr=(50.0, 10.0, 90.0),
    ips=(40.0, -20.0, 100.0),
    snips=(45.0, -5.0, 95.0),
    agreement=(0.5, 0.8),
    ess=(200.0, 400.0),
    log_loss=(0.40, 0.41),
    support=(1.0, 0.98),
):
    """A card with a `metrics.gate` section, every number settable."""
    differences = [
        {"method": method, "value": v, "low": lo, "high": hi}
        for method, (v, lo, hi) in (("ips", ips), ("snips", snips), ("doubly_robust", dr))
    ]
    return {
        "metrics": {
            "gate": {
                "rows": 1000,
                "differences": differences,
                "new": {"agreement": agreement[0], "ess": ess[0], "clipped": 0.0},
                "old": {"agreement": agreement[1], "ess": ess[1], "clipped": 0.0},
                "max_weight": 50.0,
                "support": support and {"new": support[0], "old": support[1]},
                "retention_log_loss": log_loss
                and {"rows": 1000, "candidate": log_loss[0], "current": log_loss[1]},
            }
        }
    }


def test_a_clear_improvement_is_promoted_with_its_reason():
    promote, why = promotion_verdict(gate())
    assert promote and why.startswith("better: doubly robust difference +50.0 [+10.0, +90.0]")


def test_picks_outside_the_support_up_to_the_allowed_share_are_promoted():
    """95 of 100 picks within exploration's top K is exactly the 5% allowed: not refused."""
    share = 1 - MAX_OUTSIDE_SUPPORT
    assert np.mean([True] * 95 + [False] * 5) == share
    assert promotion_verdict(gate(support=(share, share)))[0]


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ({"metrics": {"policy_values": {}}}, "no off-policy comparison"),
        (gate(agreement=(MIN_AGREEMENT - 0.01, 0.8)), "low overlap: the candidate"),
        (gate(agreement=(0.5, 0.05)), "low overlap: the current model"),
        (gate(ess=(MIN_ESS - 1, 400.0)), "low effective sample size: the candidate"),
        (gate(support=(1 - MAX_OUTSIDE_SUPPORT - 0.001, 1.0)), "outside the logging support"),
        (gate(support=(1.0, 0.5)), "outside the logging support: the current model's pick"),
        (gate(support=None), "no support check"),
        (gate(ips=(-600.0, -900.0, -300.0)), "estimators disagree"),
        (gate(snips=(-200.0, -400.0, -10.0)), "estimators disagree"),
        (gate(dr=(-50.0, -90.0, -10.0), ips=(30.0, 5.0, 60.0)), "estimators disagree"),
        (gate(dr=(30.0, -10.0, 70.0)), "not shown better"),
        (gate(log_loss=(0.4101, 0.41)), "worse fit: holdout log loss 0.4101 on 1000"),
        (gate(log_loss=None), "no log loss comparison"),
    ],
)
def test_the_gate_refuses_and_says_why(card, reason):
    promote, why = promotion_verdict(card)
    assert not promote and why.startswith(reason), why


def test_the_issue_s_numbers_are_refused():
    """DR lower bound 885.7 against 804.4, while IPS (159.7 vs 807.9) and SNIPS (583.1 vs 796.3)
    rated the candidate lower: as a paired comparison, IPS's difference is far below 0."""
    card = gate(dr=(120.0, 81.3, 160.0), ips=(-648.2, -900.0, -400.0), snips=(-213.2, -350, -80))
    assert promotion_verdict(card) == (
        False,
        "estimators disagree: doubly robust difference +120.0 [+81.3, +160.0] but IPS "
        "-648.2 [-900.0, -400.0]; check the reward model and propensities",
    )


def test_currencies_without_a_rate_are_counted_and_kept_out_of_the_gate():
    """Decisions in a currency with no rate to USD are reported per currency, not dropped
    silently, and the off-policy values rest on the others only."""
    logged = synthetic_log(30, seed=3) + synthetic_log(4, seed=8, currency="CHF")
    assert currencies_without_rate(logged) == {"CHF": 4}
    report = policy_values(logged, HeuristicPrior(), HeuristicPrior(), ValueSettings(), folds=3)
    assert report.rows == 30
    calibration = net_value_calibration(logged, HeuristicPrior(), ValueSettings())
    assert calibration["rows"] == 30


def test_net_value_calibration_by_hand():
    """Predicted over realised net value of the logged plans, per decision, in USD."""

    class Constant:
        version = "constant"

        def predict(self, incident, plans):
            return np.full(len(plans), 0.5), np.zeros(len(plans))

    logged = synthetic_log(20, seed=6)
    values = ValueSettings()
    found = net_value_calibration(logged, Constant(), values)
    predicted = np.mean([_net_values(Constant(), d, values)[d.logged_index] for d in logged])
    realised = np.mean([_reward(d, values) for d in logged])
    assert found["predicted_mean"] == pytest.approx(predicted)
    assert found["realised_mean"] == pytest.approx(realised)
    assert found["ratio"] == pytest.approx(predicted / realised)


def test_log_loss_of_both_models_on_the_logged_plans_by_hand():
    """The gate's log loss is each model's P(stay) of the plan actually logged, same rows."""

    class Constant:
        def __init__(self, p):
            self.p, self.version = p, f"constant-{p}"

        def predict(self, incident, plans):
            return np.full(len(plans), self.p), np.zeros(len(plans))

    logged = synthetic_log(40, seed=9)
    y = np.array([d.retained for d in logged], dtype=float)
    found = retention_log_loss(logged, Constant(0.8), Constant(0.3))

    def by_hand(p):
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    assert found["rows"] == 40 and found["current_model"] == "constant-0.3"
    assert found["candidate"] == pytest.approx(by_hand(0.8))
    assert found["current"] == pytest.approx(by_hand(0.3))
    card = gate(log_loss=(found["candidate"], found["current"]))
    assert promotion_verdict(card)[0] == (found["candidate"] <= found["current"])


def test_batched_net_values_equal_one_call_per_decision():
    """Scoring the holdout in batches (ModelScorer.predict_many) changes no number."""
    from pathlib import Path

    from models.artifact import load_artifact
    from models.scorer import ModelScorer
    from training.logged import net_values_many

    bundled = Path(__file__).resolve().parents[2] / "models" / "artifacts" / "sim-3"
    scorer = ModelScorer(load_artifact(bundled))
    logged = synthetic_log(260, seed=11)  # more than one batch of 250
    values = ValueSettings()
    batched = net_values_many(scorer, logged, values)
    for d, v in zip(logged, batched, strict=True):
        np.testing.assert_allclose(v, _net_values(scorer, d, values), rtol=1e-12)


def test_scoring_only_some_positions_gives_the_same_values_there_and_nan_elsewhere(
    in_memory_artifact,
):
    """Reward models score only the plans the estimators read (the shown one, the picks)."""
    logged = synthetic_log(30, seed=4)
    positions = [sorted({0, d.logged_index}) for d in logged]
    for scorer in (HeuristicPrior(), ModelScorer(in_memory_artifact)):  # one batches, one not
        whole = net_values_many(scorer, logged, ValueSettings())
        some = net_values_many(scorer, logged, ValueSettings(), positions=positions)
        for full, part, at in zip(whole, some, positions, strict=True):
            np.testing.assert_allclose(part[at], full[at], rtol=1e-12)
            assert np.isnan(np.delete(part, at)).all()


def test_a_decisions_rows_are_built_once_for_every_model(in_memory_artifact):
    """Models of one feature definition share each decision's rows; the values are per model."""
    logged = synthetic_log(20, seed=5)
    one, other = ModelScorer(in_memory_artifact), ModelScorer(in_memory_artifact)
    first = net_values_many(one, logged, ValueSettings())
    rows = [d._rows[one.features.version] for d in logged]
    again = net_values_many(other, logged, ValueSettings(), positions=[[0]] * len(logged))
    for d, built, full, part in zip(logged, rows, first, again, strict=True):
        assert d._rows[one.features.version] is built  # not built again
        np.testing.assert_array_equal(full, _net_values(one, d, ValueSettings()))
        assert part[0] == full[0]

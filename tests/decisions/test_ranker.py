"""The ranker orders plans by expected net value; the prior follows the literature's shapes."""

from decimal import Decimal

import numpy as np

from remedy.decisions.ranker import HeuristicPrior, PlanRanker, ValueSettings
from remedy.domain import Action, Kind, Plan
from tests.factories import default_engine, make_incident


def plan(*actions):
    return Plan(tuple(actions), "EUR")


def gift(multiple, loss=Decimal("100")):
    value = loss * multiple
    return Action(f"gift_{multiple}x", Kind.GIFT, None, value, value * Decimal("0.4"))


APOLOGY = Action("apology", Kind.APOLOGY, None, Decimal(0), Decimal(0))


class FixedScorer:
    """A scorer with known answers, to check the net-value arithmetic."""

    version = "fixed"

    def __init__(self, p_stay, referrals):
        self.p_stay, self.referrals = p_stay, referrals

    def predict(self, incident, plans):
        return np.array(self.p_stay[: len(plans)]), np.array(self.referrals[: len(plans)])


def test_expected_net_value_formula_is_exact():
    incident = make_incident(customer_value="1000.00")
    plans = [plan(APOLOGY), plan(APOLOGY, gift(Decimal(1)))]
    ranker = PlanRanker(
        FixedScorer([0.5, 0.9], [0.0, 1.0]), ValueSettings(Decimal("2"), Decimal("0.5"))
    )
    ranked = ranker.rank(incident, plans)
    # 0.9 * 2 * 1000 + 1.0 * 0.5 * 1000 - 40 = 2260; 0.5 * 2 * 1000 = 1000
    assert [s.expected_net_value for s in ranked] == [Decimal("2260.00"), Decimal("1000.00")]
    assert ranked[0].plan.plan_id == "apology+gift_1x"


def test_cost_price_makes_expensive_plans_lose():
    incident = make_incident(customer_value="200.00")
    plans = [plan(APOLOGY), plan(APOLOGY, gift(Decimal(1)))]
    ranker = PlanRanker(FixedScorer([0.5, 0.8], [0.0, 0.0]))
    # 0.8 * 200 - 40 = 120 beats 100; with cost tripled, 160 - 120 = 40 does not
    assert ranker.rank(incident, plans)[0].plan.plan_id == "apology+gift_1x"
    assert ranker.rank(incident, plans, Decimal("3"))[0].plan.plan_id == "apology"


def test_priced_cost_is_exact_money_rounded_half_up():
    """The shadow-priced cost is Decimal arithmetic on minor units, rounded as money is."""
    incident = make_incident(customer_value="100.00")
    cheap = Action("note", Kind.GIFT, None, Decimal("0.03"), Decimal("0.03"))
    ranker = PlanRanker(FixedScorer([0.5], [0.0]))
    # 0.5 * 100 = 50.00; cost 0.03 x 1.5 = 0.045 -> 0.05 (half up); a float would give 0.04
    scored = ranker.score(incident, [plan(cheap)], Decimal("1.5"))
    assert scored[0].expected_net_value == Decimal("49.95")
    assert ranker.score(incident, [plan(cheap)])[0].expected_net_value == Decimal("49.97")


def test_pacing_prices_up_the_overdelivery_never_the_fix():
    """A make-whole refund is owed however fast the pool is spent: only the gift is paced."""
    incident = make_incident(customer_value="1000.00")
    refund = Action("refund_full", Kind.REFUND, None, Decimal("300.00"), Decimal("300.00"))
    ranker = PlanRanker(FixedScorer([0.5], [0.0]), ValueSettings(Decimal("1"), Decimal("0")))
    whole = plan(refund, gift(Decimal(1)))  # the fix 300.00 and a gift costing 40.00
    # at price 2: 500.00 - (300.00 + 2 x 40.00) = 120.00, not 500.00 - 2 x 340.00
    assert ranker.score(incident, [whole], Decimal("2"))[0].expected_net_value == Decimal("120.00")
    assert ranker.score(incident, [whole])[0].expected_net_value == Decimal("160.00")


def test_prior_compensation_has_diminishing_returns_and_backfires_past_150_percent():
    incident = make_incident(loss_amount="100", severity=3)
    multiples = [Decimal(m) for m in ("0.5", "1", "1.5", "3", "5")]
    p_stay, _ = HeuristicPrior().predict(incident, [plan(gift(m)) for m in multiples])
    gains = np.diff(p_stay[:3])
    assert gains[0] > gains[1] > 0  # concave up to 150%
    assert p_stay[4] < p_stay[3] < p_stay[2]  # overcompensation turns against us


def test_prior_values_recovery_more_when_the_company_is_at_fault():
    plans = [plan(), plan(gift(Decimal(1)))]
    ours = HeuristicPrior().predict(make_incident(fault_type="company", loss_amount="100"), plans)[
        0
    ]
    theirs = HeuristicPrior().predict(
        make_incident(fault_type="customer", loss_amount="100"), plans
    )[0]
    assert ours[1] - ours[0] > theirs[1] - theirs[0]


def test_engine_returns_best_first_with_versions():
    result = default_engine().decide(make_incident())
    values = [c.scored.expected_net_value for c in result.candidates]
    assert values == sorted(values, reverse=True)
    assert result.versions == {
        "catalog": "1",
        "rules": "1",
        "caps": "1",
        "model": HeuristicPrior.version,
    }

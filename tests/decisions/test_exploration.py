"""Exploration draws by the documented rule and reports exact propensities."""

import random
from collections import Counter
from decimal import Decimal

import pytest

from remedy.decisions.exploration import ExplorationPolicy, shown_order


def test_propensities_follow_the_rule_and_sum_to_one():
    policy = ExplorationPolicy(Decimal("0.10"), top_k=5)
    p = policy.propensities(8)
    assert p[0] == Decimal("0.92") and p[1:5] == [Decimal("0.02")] * 4 and p[5:] == [0, 0, 0]
    assert sum(p) == 1
    thirds = ExplorationPolicy(Decimal(1), top_k=3).propensities(3)
    assert thirds == [Decimal("0.333333333333")] * 3
    assert ExplorationPolicy(Decimal("0.5"), 5).propensities(2) == [
        Decimal("0.75"),
        Decimal("0.25"),
    ]
    assert ExplorationPolicy(Decimal(0), 5).propensities(3) == [1, 0, 0]


def test_draws_match_the_propensities():
    policy = ExplorationPolicy(Decimal("0.30"), top_k=3)
    rng = random.Random(11)
    counts = Counter(policy.choose_first(10, rng)[0] for _ in range(30000))
    assert set(counts) == {0, 1, 2}
    expected = [float(p) for p in policy.propensities(10)[:3]]
    for index, share in enumerate(expected):
        assert counts[index] / 30000 == pytest.approx(share, abs=0.01)


def test_rate_zero_never_explores():
    policy = ExplorationPolicy(Decimal(0))
    rng = random.Random(1)
    assert {policy.choose_first(6, rng) for _ in range(100)} == {(0, Decimal(1))}


def test_shown_order_puts_the_choice_first():
    assert shown_order(["a", "b", "c", "d"], 2, 3) == ["c", "a", "b"]
    assert shown_order([], 0, 3) == []


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ExplorationPolicy(Decimal("1.5"))
    with pytest.raises(ValueError):
        ExplorationPolicy(Decimal("0.1"), top_k=0)
    with pytest.raises(ValueError, match="Decimal"):
        ExplorationPolicy(0.1)  # type: ignore[arg-type]


def test_rate_given_as_int_or_text_is_taken_exactly():
    """Config built in code may say 0 or "0.2"; the policy keeps an exact Decimal."""
    assert ExplorationPolicy(0).rate == Decimal(0)  # type: ignore[arg-type]
    assert ExplorationPolicy("0.2").propensities(2) == [Decimal("0.9"), Decimal("0.1")]  # type: ignore[arg-type]
    rng = random.Random(1)
    assert {ExplorationPolicy(0).choose_first(6, rng) for _ in range(20)} == {(0, Decimal(1))}  # type: ignore[arg-type]


def test_defaults_are_ten_percent_over_the_top_five():
    policy = ExplorationPolicy()
    assert (policy.rate, policy.top_k) == (Decimal("0.10"), 5)
    assert policy.propensities(1) == [Decimal(1)]
    assert ExplorationPolicy(Decimal("0.10")).propensities(6) == [
        Decimal("0.92"), Decimal("0.02"), Decimal("0.02"), Decimal("0.02"), Decimal("0.02"), 0
    ]  # fmt: skip


def test_top_k_of_one_is_allowed_and_never_explores():
    policy = ExplorationPolicy(Decimal("0.5"), top_k=1)
    assert policy.propensities(3) == [Decimal(1), Decimal(0), Decimal(0)]
    rng = random.Random(3)
    assert {policy.choose_first(3, rng) for _ in range(50)} == {(0, Decimal(1))}


def test_rates_from_zero_to_one_inclusive_and_nothing_else():
    assert ExplorationPolicy(Decimal(1)).rate == 1 and ExplorationPolicy(Decimal(0)).rate == 0
    for rate in (Decimal("-0.01"), Decimal("1.01")):
        with pytest.raises(ValueError) as raised:
            ExplorationPolicy(rate)
        assert str(raised.value) == "exploration rate must be between 0 and 1"
    with pytest.raises(ValueError) as raised:
        ExplorationPolicy(Decimal("0.1"), top_k=0)
    assert str(raised.value) == "exploration top_k must be at least 1"
    for bad in (0.1, [1], None):
        with pytest.raises(ValueError) as raised:
            ExplorationPolicy(bad)  # type: ignore[arg-type]
        assert str(raised.value) == "exploration rate must be a Decimal, an int or a decimal string"
    assert ExplorationPolicy(1).rate == Decimal(1)  # type: ignore[arg-type]
    assert isinstance(ExplorationPolicy("0.25").rate, Decimal)  # type: ignore[arg-type]


def test_always_exploring_draws_only_from_the_top_k():
    policy = ExplorationPolicy(Decimal(1), top_k=2)
    rng = random.Random(5)
    draws = Counter(policy.choose_first(4, rng) for _ in range(400))
    assert set(draws) == {(0, Decimal("0.5")), (1, Decimal("0.5"))}
    assert policy.choose_first(0, rng) == (0, Decimal(1))
    assert policy.propensities(0) == []


def test_propensities_are_rounded_to_twelve_places_and_normalised():
    sixths = ExplorationPolicy(Decimal(1), top_k=6).propensities(6)
    assert [str(p) for p in sixths] == ["0.166666666667"] * 6
    assert str(ExplorationPolicy(Decimal("0.2"), top_k=2).propensities(2)[0]) == "0.9"


def test_shown_order_is_cut_at_the_limit():
    assert shown_order(["a", "b", "c"], 0, 2) == ["a", "b"]
    assert shown_order(["a", "b", "c"], 1, 5) == ["b", "a", "c"]


def _incident(**overrides):
    from remedy.domain import FaultType, Incident

    fields = dict(
        customer_id="c",
        severity=3,
        fault_type=FaultType.COMPANY,
        customer_value=Decimal("1200"),
        loss_amount=Decimal("60"),
        currency="EUR",
        channel="chat",
    )
    fields.update(overrides)
    return Incident(**fields)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"severity": 4}, "severe"),
        ({"severity": 5}, "severe"),
        ({"public": True}, "public"),
        ({"channel": "review"}, "public"),
        ({"prior_incidents": 1}, "repeat_victim"),
        ({"churn_threat": True}, "churn_threat"),
    ],
)
def test_protected_incidents_are_never_explored_and_log_propensity_one(overrides, code):
    from remedy.decisions.exploration import explorable, protected_by

    incident = _incident(**overrides)
    assert code in protected_by(incident)
    eligible = explorable(incident, [False] * 6)
    assert eligible == [True, False, False, False, False, False]
    policy = ExplorationPolicy(Decimal(1), top_k=5)  # always explore, were it allowed
    rng = random.Random(3)
    assert {policy.choose_first(6, rng, eligible) for _ in range(200)} == {(0, Decimal(1))}
    assert policy.propensities(6, eligible) == [1, 0, 0, 0, 0, 0]


def test_an_ordinary_incident_is_explored_as_before():
    from remedy.decisions.exploration import explorable, protected_by

    incident = _incident()
    assert protected_by(incident) == []
    eligible = explorable(incident, [False] * 4)
    assert eligible == [True] * 4
    policy = ExplorationPolicy(Decimal("0.10"), top_k=5)
    assert policy.propensities(4, eligible) == policy.propensities(4)


def test_a_plan_needing_approval_is_not_shown_first_when_the_best_does_not_need_it():
    from remedy.decisions.exploration import explorable

    incident = _incident()
    waits = [False, True, False, True, False, False]
    eligible = explorable(incident, waits)
    assert eligible == [True, False, True, False, True, True]
    policy = ExplorationPolicy(Decimal("0.30"), top_k=5)
    p = policy.propensities(6, eligible)
    # K counts the eligible plans of the top five: ranks 0, 2 and 4
    assert p == [Decimal("0.8"), 0, Decimal("0.1"), 0, Decimal("0.1"), 0]
    assert sum(p) == 1
    rng = random.Random(5)
    counts = Counter(policy.choose_first(6, rng, eligible)[0] for _ in range(30000))
    assert set(counts) == {0, 2, 4}
    for index in (0, 2, 4):
        assert counts[index] / 30000 == pytest.approx(float(p[index]), abs=0.01)
    # When the best needs approval too, any top plan may be shown first.
    assert explorable(incident, [True, True, False]) == [True, True, True]


def test_one_eligible_plan_means_no_draw():
    policy = ExplorationPolicy(Decimal("0.5"), top_k=5)
    rng = random.Random(1)
    state = rng.getstate()
    assert policy.choose_first(3, rng, [True, False, False]) == (0, Decimal(1))
    assert rng.getstate() == state
    with pytest.raises(ValueError):
        policy.choose_first(3, rng, [True, False])

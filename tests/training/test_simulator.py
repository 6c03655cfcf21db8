"""The simulated customer: response curves that follow the literature."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from catalog.vocabulary import default_vocabulary
from remedy.domain import CHANNELS, CUSTOMER_STATUSES, FaultType, Kind
from tests.factories import action, make_incident, plan
from training.simulator import FX_PER_USD, expected_referrals, random_incident, simulate_outcome
from training.world import HiddenTraits, compensation_response, hidden_traits, true_response

APOLOGY = action("apology", Kind.APOLOGY)
CUSTOMERS = [f"cust-{i}" for i in range(400)]  # hidden traits vary across these


def gift(multiple: float, loss: float = 100.0):
    """Return a gift to the customer worth `multiple` x the loss."""
    value = Decimal(repr(round(multiple * loss, 2)))
    return action("gift", Kind.GIFT, str(value), str(value * Decimal("0.4")))


def mean_stay(actions=(), **incident) -> float:
    """Return P(stay) averaged over many customers (their hidden traits differ)."""
    return float(
        np.mean(
            [
                true_response(make_incident(customer_id=c, **incident), plan(*actions))[0]
                for c in CUSTOMERS
            ]
        )
    )


def test_random_incidents_are_valid_and_varied(rng):
    """Incidents span severities, faults, categories and currencies, with positive amounts."""
    incidents = [random_incident(rng) for _ in range(2000)]
    assert {i.severity for i in incidents} == {1, 2, 3, 4, 5}
    assert {i.fault_type for i in incidents} == set(FaultType)
    assert {i.category for i in incidents} == set(default_vocabulary().names)
    assert {i.channel for i in incidents} == set(CHANNELS)
    assert 0.15 < np.mean([i.is_public for i in incidents]) < 0.28
    assert 0.15 < np.mean([i.prior_incidents > 0 for i in incidents]) < 0.28
    assert {i.customer_status for i in incidents} == set(CUSTOMER_STATUSES)
    assert 0.02 < np.mean([i.loss_amount == 0 for i in incidents]) < 0.15
    assert {i.currency for i in incidents} == set(FX_PER_USD)
    assert all(i.loss_amount >= 0 and i.customer_value > 0 for i in incidents)
    assert 0.02 < np.mean([i.churn_threat for i in incidents]) < 0.3
    jpy = [i for i in incidents if i.currency == "JPY"]
    assert all(i.loss_amount == i.loss_amount.to_integral_value() for i in jpy)


def test_random_incidents_repeat_for_a_seed():
    """The same seed gives the same incidents."""
    a = [random_incident(np.random.default_rng(1)) for _ in range(3)]
    b = [random_incident(np.random.default_rng(1)) for _ in range(3)]
    assert a == b


def test_truth_is_deterministic_and_bounded():
    """P(stay) and referrals depend only on incident and plan, and stay in range."""
    incident, p = make_incident(), plan(APOLOGY, gift(1.0))
    assert true_response(incident, p)[0] == true_response(incident, p)[0]
    assert 0.01 <= true_response(incident, p)[0] <= 0.99
    assert expected_referrals(incident, p) > 0


def test_compensation_helps_with_diminishing_returns_when_the_service_is_accepted():
    """#3: concave for customers who accept the service: the first dollars pay most."""
    accepts = HiddenTraits(False, False, False, 0.0)
    r = [compensation_response(x, accepts) for x in (0.0, 0.5, 1.0, 1.5)]
    gains = np.diff(r)
    assert (gains > 0).all()
    assert gains[0] > gains[1] > gains[2]


def test_compensation_is_s_shaped_when_the_service_is_rejected():
    """#3: S-shape for customers who reject the service, steepest between 60% and 120%."""
    rejects = HiddenTraits(False, True, False, 0.0)
    grid = np.linspace(0, 1.5, 16)
    r = np.array([compensation_response(x, rejects) for x in grid])
    steepest = grid[np.argmax(np.diff(r))]
    assert 0.6 <= steepest <= 1.2
    assert r[2] - r[0] < r[9] - r[7]  # slow start, then steep


def test_overcompensation_turns_the_minority_against_it():
    """#4, #6: the averse minority likes any surplus less; most customers plateau."""
    most = HiddenTraits(False, False, False, 0.0)
    averse = HiddenTraits(True, False, False, 0.0)
    assert compensation_response(3.0, averse) < compensation_response(1.0, averse)
    assert compensation_response(3.0, most) == pytest.approx(
        compensation_response(1.5, most), abs=0.1
    )


def test_retention_is_an_inverted_u_peaking_near_150_percent():
    """#4: across customers, retention peaks between 100% and 200% of the loss and falls after."""
    grid = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0]
    stay = [mean_stay((APOLOGY, gift(m)), severity=2, channel="email") for m in grid]
    peak = grid[int(np.argmax(stay))]
    assert 1.0 <= peak <= 2.0
    assert stay[-1] < max(stay) - 0.01


def test_compensation_matters_far_more_when_the_company_is_at_fault():
    """#8: the lift from compensation is large for company fault and small for customer fault."""

    def lift(fault: FaultType) -> float:
        """Return the gain in P(stay) from a 1x gift."""
        return mean_stay([gift(1.0)], fault_type=fault) - mean_stay([], fault_type=fault)

    assert lift(FaultType.COMPANY) > 3 * lift(FaultType.CUSTOMER)
    assert lift(FaultType.COMPANY) > lift(FaultType.PARTNER) > lift(FaultType.CUSTOMER)


def test_severity_lowers_retention():
    """#25: the more severe the failure, the fewer stay."""
    stay = [mean_stay([APOLOGY], severity=s) for s in range(1, 6)]
    assert all(a > b for a, b in zip(stay, stay[1:], strict=False))


def test_resolving_the_failure_matters_most():
    """#17-#19: a fix raises retention far more than anything else alone."""
    refund = action("refund_full", Kind.REFUND, "100.00", "100.00")
    unresolved = mean_stay([APOLOGY], severity=4)
    resolved = mean_stay([APOLOGY, refund], severity=4)
    assert resolved - unresolved > 0.2


def test_the_matched_remedy_works_best():
    """#15, #16: replacement for defects, refund for billing, expedite for late deliveries."""
    replacement = action("replacement", Kind.REPLACEMENT, "100.00", "60.00")
    refund = action("refund_full", Kind.REFUND, "100.00", "100.00")
    credit = action("credit", Kind.CREDIT, "100.00", "50.00")
    expedite = action("expedite", Kind.EXPEDITE, "10.00", "6.00")
    defect = {"category": "product_defect"}
    assert mean_stay([replacement], **defect) > mean_stay([refund], **defect)
    billing = {"category": "billing"}
    assert mean_stay([refund], **billing) > mean_stay([credit], **billing)
    delivery_lift = mean_stay([expedite], category="delivery") - mean_stay([], category="delivery")
    billing_lift = mean_stay([expedite], category="billing") - mean_stay([], category="billing")
    assert delivery_lift > 3 * billing_lift


def test_credit_counts_for_less_than_cash_as_compensation():
    """#5: credit is no fairer than full compensation, so it lifts word of mouth less."""
    incident = make_incident(category="other", loss_amount="100.00")
    refund = plan(action("refund_full", Kind.REFUND, "100.00", "100.00"))
    credit = plan(action("credit", Kind.CREDIT, "100.00", "50.00"))
    assert expected_referrals(incident, credit) < expected_referrals(incident, refund)


def test_personal_contact_matters_more_for_severe_failures_and_valuable_customers():
    """#23, #26: an executive's call lifts retention for a severe, valuable case, not a trifle."""
    call = [action("contact_executive", Kind.PERSONAL_CONTACT, cost="100", level="executive")]
    severe = {"severity": 5, "customer_value": Decimal("20000.00")}
    trifle = {"severity": 1, "customer_value": Decimal("200.00")}
    severe_lift = mean_stay(call, **severe) - mean_stay([], **severe)
    trifle_lift = mean_stay(call, **trifle) - mean_stay([], **trifle)
    assert severe_lift > 0.05
    assert severe_lift > 3 * max(trifle_lift, 0.0)


def test_apology_with_an_immediate_response_leaves_compensation_little_to_add():
    """#12: compensation adds less when an apology comes with an immediate (live) response."""

    def lift(channel: str) -> float:
        """Return the gain in P(stay) from a 1x gift on top of an apology."""
        return mean_stay([APOLOGY, gift(1.0)], channel=channel) - mean_stay(
            [APOLOGY], channel=channel
        )

    assert lift("chat") < 0.6 * lift("email")


def test_apology_helps():
    """#13, #14: an apology raises retention, most for rudeness (a process failure)."""
    rude = {"category": "service_rudeness"}
    assert mean_stay([APOLOGY]) > mean_stay([])
    assert mean_stay([APOLOGY], **rude) - mean_stay([], **rude) > mean_stay([APOLOGY]) - mean_stay(
        []
    )


def mean_referrals(actions=(), **incident) -> float:
    """Return expected referrals averaged over many customers."""
    return float(
        np.mean(
            [
                expected_referrals(make_incident(customer_id=c, **incident), plan(*actions))
                for c in CUSTOMERS
            ]
        )
    )


REFUND = action("refund", Kind.REFUND, "100.00", "100.00")
MANAGER = action("contact_manager", Kind.PERSONAL_CONTACT, cost="40", level="manager")


def test_public_word_of_mouth_goes_both_ways_and_grows_with_the_audience():
    """#20, #1, #2: a public recovery that delights is retold to its audience (more referrals
    than in private, more with a larger audience); one that disappoints scares prospects away
    (fewer referrals than the same plan in private)."""
    delight = [APOLOGY, REFUND, gift(1.0), MANAGER]
    shrug = [APOLOGY]
    for actions, better in ((delight, True), (shrug, False)):
        private = mean_referrals(actions, channel="email")
        small = mean_referrals(actions, channel="social", reach=300)
        large = mean_referrals(actions, channel="social", reach=300_000)
        if better:
            assert private < small < large
        else:
            assert large < small < private
    # an unknown audience counts as the default reach; a private incident's reach is not heard
    assert mean_referrals(delight, channel="review") == pytest.approx(
        mean_referrals(delight, channel="review", reach=100)
    )
    assert mean_referrals(delight, reach=10_000) == mean_referrals(delight)


def test_repeat_victims_lose_trust_faster_and_value_seniority_more():
    """#10: every earlier failure costs more trust than the one before; a manager's contact
    lifts a repeat victim more than a first-time one (an assumption, module docstring)."""
    fixed = [APOLOGY, REFUND]
    stay = [mean_stay(fixed, prior_incidents=n) for n in range(4)]
    drops = np.diff(stay)
    assert (drops < 0).all() and drops[2] < drops[0]
    lift = [
        mean_stay([*fixed, MANAGER], prior_incidents=n) - mean_stay(fixed, prior_incidents=n)
        for n in (0, 2)
    ]
    assert lift[1] > 1.5 * lift[0] > 0


def test_a_customer_who_left_comes_back_rarely():
    """A win-back: "stays" means returning, far rarer than staying."""
    assert mean_stay([APOLOGY, REFUND], customer_status="left") < 0.6 * mean_stay([APOLOGY, REFUND])


def test_hidden_traits_are_stable_and_mixed():
    """Traits come from the customer id (stable), and a minority is averse (#4)."""
    assert hidden_traits(make_incident(customer_id="x")) == hidden_traits(
        make_incident(customer_id="x")
    )
    averse = np.mean(
        [hidden_traits(make_incident(customer_id=c)).overcompensation_averse for c in CUSTOMERS]
    )
    assert 0.1 < averse < 0.3


def test_outcomes_follow_the_true_probabilities(rng):
    """Simulated outcomes occur at the true rates."""
    incident, p = make_incident(severity=4), plan(APOLOGY, gift(1.0))
    draws = [simulate_outcome(incident, p, rng) for _ in range(4000)]
    stayed = np.mean([retained for retained, _ in draws])
    referred = np.mean([referrals for _, referrals in draws])
    assert stayed == pytest.approx(true_response(incident, p)[0], abs=0.03)
    assert referred == pytest.approx(expected_referrals(incident, p), rel=0.2)

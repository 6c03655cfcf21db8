"""A deployment's world: the literature's ranges drawn, the home world exactly as before."""

from __future__ import annotations

import dataclasses

import numpy as np

from remedy.domain import Kind
from tests.factories import action, make_incident, plan
from training.simulator import random_incident, true_net_value
from training.world import HOME, World, hidden_traits, true_response

CUSTOMERS = [f"cust-{i}" for i in range(400)]
APOLOGY = action("apology", Kind.APOLOGY)
AGENT = action("call", Kind.PERSONAL_CONTACT, level="agent")
MANAGER = action("manager", Kind.PERSONAL_CONTACT, level="manager")


def mean_stay(world: World, *actions, **incident) -> float:
    """P(stay) averaged over many customers in `world`."""
    return float(
        np.mean(
            [
                true_response(make_incident(customer_id=c, **incident), plan(*actions), world)[0]
                for c in CUSTOMERS
            ]
        )
    )


def test_the_home_world_is_the_default_and_the_literature_centre():
    """Every response without a world is the home world's; its multipliers are 1."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        incident = random_incident(rng)
        p = plan(APOLOGY, MANAGER)
        assert true_response(incident, p) == true_response(incident, p, HOME)
    assert World() == HOME
    assert (HOME.compensation, HOME.interaction, HOME.seniority) == (1.0, 1.0, 1.0)


def test_drawn_worlds_repeat_for_a_seed_and_stay_in_the_documented_ranges():
    """A seed names one world; 200 seeds cover the ranges and never leave them."""
    assert World.drawn(4) == World.drawn(4)
    worlds = [World.drawn(seed) for seed in range(200)]
    assert len(set(worlds)) == 200
    for name, low, high in (
        ("compensation", 0.35, 1.75),
        ("interaction", 0.35, 1.75),
        ("seniority", 0.0, 1.5),
        ("averse_share", 0.05, 0.5),
        ("companion_share", 0.15, 0.6),
        ("word_of_mouth", 0.5, 2.0),
        ("repeat_trust", 0.5, 2.0),
    ):
        values = [getattr(w, name) for w in worlds]
        assert low <= min(values) and max(values) <= high, name
        assert max(values) - min(values) > 0.6 * (high - low), name


def test_seniority_scales_what_a_manager_adds_over_an_agent():
    """#26 found no effect of senior contact: with seniority 0 a manager is an agent."""
    none = dataclasses.replace(HOME, seniority=0.0)
    severe = {"severity": 5, "customer_value": "5000.00"}
    assert mean_stay(HOME, MANAGER, **severe) > mean_stay(HOME, AGENT, **severe) + 0.01
    assert abs(mean_stay(none, MANAGER, **severe) - mean_stay(none, AGENT, **severe)) < 1e-12


def test_compensation_and_interaction_scale_their_own_effects():
    """A world that values compensation less gains less from a gift; one that values
    interaction more gains more from an apology."""
    gift = action("gift", Kind.GIFT, "100.00", "40.00")
    low = dataclasses.replace(HOME, compensation=0.35)
    gain_home = mean_stay(HOME, gift) - mean_stay(HOME)
    gain_low = mean_stay(low, gift) - mean_stay(low)
    assert 0 < gain_low < 0.6 * gain_home
    high = dataclasses.replace(HOME, interaction=1.75)
    assert mean_stay(high, APOLOGY) - mean_stay(high) > mean_stay(HOME, APOLOGY) - mean_stay(HOME)


def test_shares_of_hidden_traits_follow_the_world():
    """More customers turn against overcompensation where the world's share is higher."""
    averse = dataclasses.replace(HOME, averse_share=0.5)

    def share(world: World) -> float:
        traits = [hidden_traits(make_incident(customer_id=c), world) for c in CUSTOMERS]
        return float(np.mean([t.overcompensation_averse for t in traits]))

    assert 0.12 < share(HOME) < 0.28
    assert 0.42 < share(averse) < 0.58


def test_a_drawn_world_changes_what_plans_are_worth():
    """The same plans are valued differently in a drawn world: the prior's world is not it."""
    rng = np.random.default_rng(5)
    incident = random_incident(rng)
    plans = [plan(APOLOGY), plan(APOLOGY, MANAGER), plan(action("gift", Kind.GIFT, "50", "20"))]
    home = [true_net_value(incident, p) for p in plans]
    for seed in range(3):
        drawn = [true_net_value(incident, p, world=World.drawn(seed)) for p in plans]
        assert drawn != home

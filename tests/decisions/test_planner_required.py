"""The planner's remembered requirement matches give the same required cost as matching anew."""

from __future__ import annotations

import random
from decimal import Decimal

from remedy.decisions.engine import required_cost
from remedy.decisions.planner import enumerate_plans
from remedy.decisions.rules import Requirement
from remedy.domain import Action, Kind, Plan
from tests.factories import make_incident

ACTIONS = [
    Action("apology", Kind.APOLOGY, None, Decimal(0), Decimal(0)),
    Action("refund_full", Kind.REFUND, None, Decimal("40"), Decimal("40")),
    Action("credit", Kind.CREDIT, None, Decimal("20"), Decimal("12")),
    Action("gift_2x", Kind.GIFT, None, Decimal("80"), Decimal("30")),
    Action("contact_agent", Kind.PERSONAL_CONTACT, "agent", Decimal(0), Decimal("5")),
    Action("contact_manager", Kind.PERSONAL_CONTACT, "manager", Decimal(0), Decimal("25")),
    Action("contact_exec", Kind.PERSONAL_CONTACT, "executive", Decimal(0), Decimal("90")),
    Action("upgrade", Kind.UPGRADE, None, Decimal("15"), Decimal("6")),
]
REQUIREMENTS = [
    Requirement("apology-when-at-fault", item="apology"),
    Requirement("contact-when-severe", kind=Kind.PERSONAL_CONTACT, min_level="manager"),
    Requirement("any-contact", kind=Kind.PERSONAL_CONTACT, min_level="agent"),
    Requirement("a-fix", kind=Kind.REFUND),
]


def test_remembered_matches_agree_with_matching_anew():
    """For random requirement sets, every plan's required cost is the same either way."""
    rng = random.Random(5)
    incident = make_incident()
    for _ in range(40):
        requirements = rng.sample(REQUIREMENTS, rng.randrange(len(REQUIREMENTS) + 1))
        plans = enumerate_plans(incident, ACTIONS, requirements, max_extras=2)
        assert plans
        for plan in plans:
            assert plan.requirement_matches is not None
            anew = Plan(plan.actions, plan.currency)  # built without the planner's matches
            assert anew.requirement_matches is None
            assert required_cost(plan, requirements) == required_cost(anew, requirements)


def test_matches_for_other_requirements_are_not_used():
    """A plan asked about requirements it was not built for is matched anew."""
    incident = make_incident()
    plans = enumerate_plans(incident, ACTIONS, [REQUIREMENTS[0]], max_extras=2)
    manager_plan = next(p for p in plans if "contact_manager" in p.plan_id)
    assert required_cost(manager_plan, [REQUIREMENTS[1]]) == Decimal("25")
    assert required_cost(manager_plan, [REQUIREMENTS[0]]) == Decimal("0")

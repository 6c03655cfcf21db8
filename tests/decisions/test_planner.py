"""The planner enumerates every plan that meets the requirements, within its stated bound."""

from remedy.decisions.planner import eligible_actions, enumerate_plans, plan_bound
from remedy.domain import FIX_KINDS, OVERDELIVERY_KINDS, Kind
from tests.factories import default_catalog, default_rules, make_incident, said


def plans_for(incident, max_extras=2):
    catalog = default_catalog()
    outcome = default_rules(catalog).evaluate(incident, {i.id: i.kind for i in catalog.items})
    eligibility = eligible_actions(incident, catalog, outcome)
    plans = enumerate_plans(incident, eligibility.actions, outcome.requirements, max_extras)
    return plans, eligibility, outcome


def test_every_plan_has_at_most_one_fix_and_distinct_extras():
    plans, _, _ = plans_for(make_incident(severity=3))
    assert plans
    for plan in plans:
        fixes = [a for a in plan.actions if a.kind in FIX_KINDS]
        extras = [a for a in plan.actions if a.kind in OVERDELIVERY_KINDS]
        assert len(fixes) <= 1
        assert len(extras) <= 2
        assert len({(a.kind, a.audience) for a in extras}) == len(extras)
    assert len({p.plan_id for p in plans}) == len(plans)


def test_requirements_are_met_by_every_plan():
    plans, _, outcome = plans_for(make_incident(severity=5, fault_type="company"))
    assert outcome.requirements
    for plan in plans:
        assert Kind.APOLOGY in plan.kinds
        assert plan.contact_level in ("manager", "executive")


def test_enumeration_stays_within_the_documented_bound():
    for max_extras in range(0, 5):
        plans, eligibility, _ = plans_for(make_incident(fault_type="unknown"), max_extras)
        fixes = sum(a.kind in FIX_KINDS for a in eligibility.actions)
        extras = sum(a.kind in OVERDELIVERY_KINDS for a in eligibility.actions)
        assert len(plans) <= plan_bound(fixes, extras, max_extras)
    assert plan_bound(4, 10, 2) == 280
    assert plan_bound(4, 10, 4) == 1930


def test_bounds_forbids_and_default_off_items_are_excluded_with_reasons():
    _, eligibility, _ = plans_for(make_incident(fault_type="customer", loss_amount="100"))
    ids = {a.item_id for a in eligibility.actions}
    assert "refund_half" in ids and "refund_full" not in ids
    excluded = said(eligibility.excluded)
    assert "half-refund-when-customer-at-fault" in excluded["refund_full"]
    assert excluded["direct_line"] == "off unless a rule allows it"
    assert "gift_5x" in eligibility.excluded  # on by default, but bounded at 1x the loss here


def test_executive_allowed_for_critical_valuable_customers():
    _, eligibility, _ = plans_for(
        make_incident(severity=5, customer_value="9000", fault_type="company")
    )
    assert "contact_executive" in {a.item_id for a in eligibility.actions}

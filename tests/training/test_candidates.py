"""The stand-in candidate generator (until the service's planner plugs in)."""

from __future__ import annotations

from decimal import Decimal

from remedy.domain import FIX_KINDS, OVERDELIVERY_KINDS, FaultType, Kind
from tests.factories import make_incident
from training.candidates import candidate_plans


def test_plans_respect_the_plan_shape():
    """At most one fix, at most two extras of distinct kinds, the apology where eligible."""
    plans = candidate_plans(make_incident(category="delivery"))
    assert len(plans) == len({p.plan_id for p in plans}) > 100
    for p in plans:
        kinds = [a.kind for a in p.actions]
        assert sum(k in FIX_KINDS for k in kinds) <= 1
        extras = [k for k in kinds if k in OVERDELIVERY_KINDS]
        assert len(extras) <= 2 and len(set(extras)) == len(extras)
        assert kinds.count(Kind.APOLOGY) == 1


def test_rules_follow_the_incident():
    """Customer fault gets no apology, billing no shipping, a minor failure no executive."""
    plans = candidate_plans(
        make_incident(category="billing", fault_type=FaultType.CUSTOMER, severity=1)
    )
    items = {a.item_id for p in plans for a in p.actions}
    assert not items & {"apology", "replacement", "expedite", "contact_executive"}
    assert {"refund_full", "credit", "gift_5x", "gift_companions", "contact_manager"} <= items


def test_prices_scale_with_the_loss_and_respect_the_currency():
    """Gift values are multiples of the loss; JPY amounts have no decimals."""
    incident = make_incident(
        currency="JPY", loss_amount=Decimal(3333), customer_value=Decimal(90000)
    )
    actions = {a.item_id: a for p in candidate_plans(incident) for a in p.actions}
    assert actions["gift_2x"].value == Decimal(6666)
    assert actions["refund_half"].value == Decimal(1667)  # half up
    assert actions["gift_companions"].audience == "companions"
    assert all(a.value == a.value.to_integral_value() for a in actions.values())
    assert all(a.cost == a.cost.to_integral_value() for a in actions.values())
    assert actions["contact_executive"].requires_approval

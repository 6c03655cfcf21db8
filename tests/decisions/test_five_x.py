"""The 5x gift can win as the best plan within the guardrails whenever the ranker finds it
pays: neither the cap nor the approval tiers stand in its way for a large account (see
docs/promises.md, "The 5x gift"; benchmarks/five_x.py measures how often it pays)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np

from remedy.decisions.ranker import PlanRanker
from tests.factories import default_engine, make_incident


class FiveTimesPays:
    """A scorer for a customer whom only the 5x gift keeps (as a trained model might find)."""

    version = "test-five-x"

    def predict(self, incident, plans):  # type: ignore[no-untyped-def]
        gift = np.array([any(a.item_id == "gift_5x" for a in p.actions) for p in plans])
        return np.where(gift, 0.95, 0.40), np.full(len(plans), 0.05)


def test_the_5x_gift_wins_for_a_large_company_caused_loss_when_it_pays():
    engine = dataclasses.replace(default_engine(), ranker=PlanRanker(FiveTimesPays()))
    incident = make_incident(
        severity=4,
        fault_type="company",
        customer_value="60000.00",
        loss_amount="4000.00",
        currency="USD",
        category="outage",
    )
    result = engine.decide(incident)
    best = result.kept[0]
    items = {a.item_id for a in best.scored.plan.actions}
    assert "gift_5x" in items
    # Within the guardrails: the whole loss is fixed, the overdelivery fits the cap ...
    plan = best.scored.plan
    assert plan.fix is not None and plan.fix.value >= Decimal("4000.00")
    assert plan.total_cost - plan.fix_cost <= result.cap.amount
    # ... and approval marks it for finance (its cost is above the lead's tier), never drops it.
    assert best.requires_approval and best.approver == "finance"

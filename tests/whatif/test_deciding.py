"""The replay's lean guardrails keep, cap and flag exactly the plans `DecisionEngine.guard` does."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from remedy.decisions.caps import load_caps
from remedy.decisions.engine import CurrencyNotConfigured
from remedy.whatif.deciding import kept_plans
from tests.factories import default_document, default_engine
from training.simulator import random_incident


def _caps(loss_multiple: str, fix_ceiling: dict[str, str], threshold: str):  # type: ignore[no-untyped-def]
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = loss_multiple
    caps["fix_ceiling"] = fix_ceiling
    tiers = caps["approvals"]  # the agent decides up to `threshold`; a lead up to 4x it
    tiers["agent_up_to"] = {
        c: threshold.split(".")[0] if c == "JPY" else threshold for c in tiers["agent_up_to"]
    }
    tiers["lead_up_to"] = {c: str(Decimal(v) * 4) for c, v in tiers["agent_up_to"].items()}
    return load_caps(caps)


@pytest.mark.parametrize(
    ("loss_multiple", "fix_ceiling", "threshold"),
    [
        ("2", {}, "150.00"),  # the defaults' shape
        ("0.5", {"EUR": "40.00", "USD": "60.00"}, "80.00"),  # tight: many plans dropped
        ("6", {}, "5000.00"),  # generous: few dropped
    ],
)
def test_lean_guardrails_match_the_engines_guard(loss_multiple, fix_ceiling, threshold):
    engine = default_engine(caps=_caps(loss_multiple, fix_ceiling, threshold))
    rng = np.random.default_rng(7)
    compared = capped = 0
    for index in range(150):
        incident = random_incident(rng, index)
        try:
            ranked = engine.rank(incident)
        except CurrencyNotConfigured:
            with pytest.raises(CurrencyNotConfigured):
                kept_plans(engine, incident, ranked=None)  # type: ignore[arg-type]
            continue
        result = engine.guard(incident, ranked)
        was_capped, kept = kept_plans(engine, incident, ranked)
        expected_capped = (
            bool(result.candidates) and result.candidates[0].dropped_reason is not None
        )
        assert was_capped == expected_capped, incident
        assert [(s.plan.plan_id, approval) for s, approval in kept] == [
            (c.plan_id, c.requires_approval) for c in result.kept
        ], incident
        compared += 1
        capped += was_capped
    assert compared > 100 and capped > 0

"""The plans' feature columns built as arrays are bitwise the rows built plan by plan (issue 26)."""

from __future__ import annotations

import numpy as np
import pytest

from models.features import DEFINITIONS
from remedy.decisions.planner import PlanList, eligible_actions, enumerate_plans
from tests.factories import default_caps, default_catalog, default_rules
from training.simulator import random_incident


@pytest.mark.parametrize("max_extras", [0, 2, 4])
def test_array_columns_are_the_loops_to_the_bit(max_extras):
    rng = np.random.default_rng(26)
    catalog, rules, caps = default_catalog(), default_rules(), default_caps()
    kinds = {item.id: item.kind for item in catalog.items}
    compared = 0
    for index in range(300 if max_extras < 4 else 60):
        incident = random_incident(rng, index)
        if not caps.supports(incident.currency):
            continue
        incident = caps.sized(incident)
        outcome = rules.evaluate(incident, kinds)
        actions = eligible_actions(incident, catalog, outcome).actions
        plans = enumerate_plans(incident, actions, outcome.requirements, max_extras)
        assert isinstance(plans, PlanList)
        for definition in DEFINITIONS.values():
            arrays = definition.matrix(incident, plans)
            loop = definition.matrix(incident, list(plans))  # a plain list: plan by plan
            assert arrays.shape == loop.shape
            assert arrays.tobytes() == loop.tobytes()
        compared += len(plans)
    assert compared > (300 if max_extras == 0 else 1000)

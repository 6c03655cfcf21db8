"""One model call for a chunk of incidents gives every incident the bits it gets alone
(issue 26): the what-if predicts a chunk at once, the service one decision at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.artifact import load_artifact
from models.forest import COMPILED_ROWS
from models.scorer import ModelScorer
from remedy.decisions.planner import eligible_actions, enumerate_plans
from tests.factories import default_caps, default_catalog, default_rules
from training.simulator import random_incident

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"


def _decisions(count: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    catalog, rules, caps = default_catalog(), default_rules(), default_caps()
    kinds = {item.id: item.kind for item in catalog.items}
    found = []
    for index in range(count):
        incident = random_incident(rng, index)
        if not caps.supports(incident.currency):
            continue
        incident = caps.sized(incident)
        outcome = rules.evaluate(incident, kinds)
        actions = eligible_actions(incident, catalog, outcome).actions
        found.append((incident, enumerate_plans(incident, actions, outcome.requirements, 2)))
    # a decision of one plan, and one of none, among the others
    found.insert(3, (found[3][0], found[3][1][:1]))
    found.insert(5, (found[5][0], []))
    return found


@pytest.mark.parametrize("version", ["sim-1", "sim-4"])
def test_a_chunk_predicts_each_decision_as_alone(version):
    scorer = ModelScorer(load_artifact(ARTIFACTS / version))
    decisions = _decisions(120)
    assert sum(len(plans) for _, plans in decisions) >= COMPILED_ROWS  # the compiled walk
    if version == "sim-4":
        assert scorer.path == "flat-forest" and scorer._forest.compiled
    together = scorer.predict_many(decisions)
    for (incident, plans), (p_stay, referrals) in zip(decisions, together, strict=True):
        alone_p, alone_r = scorer.predict(incident, plans)
        assert p_stay.tobytes() == alone_p.tobytes()
        assert referrals.tobytes() == alone_r.tobytes()

"""Candidate plans from the service's own planner, for training and simulation.

`service_candidates` runs the bundled catalog, rules and caps through the decision engine (rules,
planner, per-incident cap) and returns the plans an agent could be shown, so a model is trained
on exactly the plans it will rank in production. It is a module-level function so that the
simulation's worker processes can use it.
"""

from __future__ import annotations

from functools import lru_cache

import catalog as bundled
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.domain import Incident, Plan
from remedy.services.configs import validate_set


@lru_cache(maxsize=1)
def _engine() -> DecisionEngine:
    """The engine on the bundled default documents (built once per process)."""
    active = validate_set(
        {kind: bundled.read_default(kind) for kind in ("catalog", "rules", "caps")}
    )
    return DecisionEngine(active.catalog, active.rules, active.caps, PlanRanker(HeuristicPrior()))


def service_candidates(incident: Incident) -> list[Plan]:
    """Return the plans inside the guardrails for `incident` (the engine's own guard)."""
    return [c.scored.plan for c in _engine().decide(incident).kept]

"""Candidate plans from the service's own planner, for training and simulation.

`service_candidates` runs the bundled catalog, rules and caps through the decision engine (rules,
planner, per-incident cap) and returns the plans an agent could be shown, so a model is trained
on exactly the plans it will rank in production. It is a module-level function so that the
simulation's worker processes can use it.
"""

from __future__ import annotations

from functools import lru_cache

import catalog as bundled
from remedy.decisions.engine import DecisionEngine, required_cost
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
    """Return the plans inside the guardrails for `incident`, in the planner's order."""
    engine = _engine()
    item_kinds = {item.id: item.kind for item in engine.catalog.items}
    from remedy.decisions.planner import eligible_actions, enumerate_plans

    outcome = engine.rules.evaluate(incident, item_kinds)
    eligibility = eligible_actions(incident, engine.catalog, outcome)
    plans = enumerate_plans(
        incident, eligibility.actions, outcome.requirements, engine.caps.max_extras
    )
    cap = engine.caps.incident_cap(incident, outcome.cap_factor)
    requirements = outcome.requirements
    return [p for p in plans if p.total_cost - required_cost(p, requirements) <= cap.amount]

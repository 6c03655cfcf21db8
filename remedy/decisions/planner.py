"""Build candidate plans from the eligible catalog items.

A plan holds the apology (when eligible: it is free and helps, #13/#14), at most one fix, and up
to `max_extras` overdelivery actions with at most one per (kind, audience). Enumeration is
exhaustive and its size is bounded by

    (F + 1) * sum(C(O, k) for k in 0..max_extras)

for F eligible fixes and O eligible overdelivery items; with the default catalog (F <= 4,
O <= 10) and max_extras <= 2 that is at most 280 plans, with max_extras = 4 at most 1,930.
Plans that miss a requirement are never built.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from math import comb

from catalog.items import Catalog, NotPriceable
from remedy.decisions.rules import Requirement, RuleOutcome
from remedy.decisions.types import FIX_KINDS, OVERDELIVERY_KINDS, Action, Incident, Kind, Plan


@dataclass
class Eligibility:
    """The priced items a plan may use, and why the others were left out."""

    actions: list[Action] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)


def eligible_actions(incident: Incident, catalog: Catalog, outcome: RuleOutcome) -> Eligibility:
    """Price every catalog item and keep those the rules and currency allow."""
    result = Eligibility()
    for item in catalog.items:
        if item.id in outcome.forbidden:
            result.excluded[item.id] = f"forbidden by rule {outcome.forbidden[item.id]}"
            continue
        if not item.enabled_by_default and item.id not in outcome.allowed:
            result.excluded[item.id] = "off unless a rule allows it"
            continue
        try:
            action = item.price(incident, catalog.staff_rates)
        except NotPriceable as error:
            result.excluded[item.id] = str(error)
            continue
        bound = _violated_bound(action, incident, outcome)
        if bound:
            result.excluded[item.id] = bound
            continue
        result.actions.append(action)
    return result


def _violated_bound(action: Action, incident: Incident, outcome: RuleOutcome) -> str | None:
    """Return why a bound rule excludes this action, if one does."""
    for rule, multiple in outcome.bounds:
        if (
            rule.selects(action.item_id, action.kind)
            and action.value > incident.loss_amount * multiple
        ):
            return f"worth more than {multiple}x the loss (rule {rule.id})"
    return None


def plan_bound(fixes: int, extras: int, max_extras: int) -> int:
    """Return the most plans enumeration can produce (the documented bound)."""
    return (fixes + 1) * sum(comb(extras, k) for k in range(max_extras + 1))


def _distinct_slots(actions: Iterable[Action]) -> bool:
    """Tell whether no two actions share a (kind, audience) slot."""
    slots = [(a.kind, a.audience) for a in actions]
    return len(slots) == len(set(slots))


def enumerate_plans(
    incident: Incident,
    actions: list[Action],
    requirements: list[Requirement],
    max_extras: int,
    fired_rules: tuple[str, ...] = (),
) -> list[Plan]:
    """Enumerate every plan that meets all requirements, in a stable order."""
    apology = [a for a in actions if a.kind == Kind.APOLOGY][:1]
    fixes: list[Action | None] = [None, *(a for a in actions if a.kind in FIX_KINDS)]
    extras = [a for a in actions if a.kind in OVERDELIVERY_KINDS]
    plans: list[Plan] = []
    for fix in fixes:
        for size in range(max_extras + 1):
            for combo in combinations(extras, size):
                if not _distinct_slots(combo):
                    continue
                chosen = tuple(apology) + ((fix,) if fix else ()) + combo
                if all(req.met_by(chosen) for req in requirements):
                    plans.append(Plan(chosen, incident.currency, fired_rules))
    return plans

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

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from catalog.items import Catalog, NotPriceable
from remedy.decisions.rules import Requirement, RuleOutcome
from remedy.decisions.substitution import USED_UP
from remedy.domain import (
    FIX_KINDS,
    OVERDELIVERY_KINDS,
    Action,
    Incident,
    Kind,
    Plan,
    PlanShape,
)
from remedy.facts import Fact, Level, Number, fact
from remedy.money import quantize


@dataclass
class Eligibility:
    """The priced items a plan may use, and why the others were left out."""

    actions: list[Action] = field(default_factory=list)
    excluded: dict[str, Fact] = field(default_factory=dict)


def eligible_actions(incident: Incident, catalog: Catalog, outcome: RuleOutcome) -> Eligibility:
    """Price every catalog item and keep those the rules and currency allow, recording why
    each other item was left out (as a fact)."""
    result = Eligibility()
    for item in catalog.items:
        if item.id in outcome.forbidden:
            by = outcome.forbidden[item.id]
            result.excluded[item.id] = (
                fact("contact_used_up", level=Level(item.level or ""))
                if by == USED_UP
                else fact("forbidden_by_rule", rule=by)
            )
            continue
        if not item.enabled_by_default and item.id not in outcome.allowed:
            result.excluded[item.id] = fact("off_unless_allowed")
            continue
        misfit = item.misfit(incident)
        if misfit:
            result.excluded[item.id] = misfit
            continue
        try:
            action = item.price(incident, catalog.staff_rates)
        except NotPriceable as error:
            result.excluded[item.id] = error.fact()
            continue
        if action.kind in FIX_KINDS and incident.loss_amount == 0:
            result.excluded[item.id] = fact("nothing_lost")
            continue
        token = item.below_minimum(action, incident.currency)
        if token:
            result.excluded[item.id] = token
            continue
        if action.kind in FIX_KINDS and outcome.make_whole and action.value < incident.loss_amount:
            result.excluded[item.id] = fact("not_whole", rule=outcome.make_whole)
            continue
        bound = _violated_bound(action, incident, outcome)
        if bound:
            result.excluded[item.id] = bound
            continue
        result.actions.append(action)
    return result


def _violated_bound(action: Action, incident: Incident, outcome: RuleOutcome) -> Fact | None:
    """Return why a bound rule excludes this action, if one does."""
    for rule, multiple in outcome.bounds:
        # Compared in the currency's minor units: half of 13.75 is priced 6.88, and that is
        # still "half the loss", not more.
        loss = incident.loss_amount if action.kind in FIX_KINDS else incident.sizing_loss
        if rule.selects(action.item_id, action.kind) and action.value > quantize(
            loss * multiple, incident.currency
        ):
            return fact("over_bound", multiple=Number(multiple), rule=rule.id)
    return None


def plan_bound(fixes: int, extras: int, max_extras: int) -> int:
    """Return the most plans enumeration can produce (the documented bound)."""
    return (fixes + 1) * sum(comb(extras, k) for k in range(max_extras + 1))


@lru_cache(maxsize=4096)
def _combinations(
    slots: tuple[tuple[str, str, str | None, str], ...],
    requirements: tuple[Requirement, ...],
    max_extras: int,
) -> tuple[tuple[tuple[int, ...], PlanShape], ...]:
    """Return the index tuples of every valid plan over these eligible slots (cached).

    `slots` describes each eligible action by (item id, kind, level, audience): the shape of a
    plan set depends only on which items are eligible, not on their prices, and only a few
    eligibility patterns occur, so enumeration runs once per pattern.
    """
    apology = [i for i, s in enumerate(slots) if s[1] == Kind.APOLOGY][:1]
    fixes: list[int | None] = [None, *(i for i, s in enumerate(slots) if s[1] in FIX_KINDS)]
    extras = [i for i, s in enumerate(slots) if s[1] in OVERDELIVERY_KINDS]
    probes = [_Probe(*s) for s in slots]
    found: list[tuple[tuple[int, ...], PlanShape]] = []
    for fix in fixes:
        for size in range(max_extras + 1):
            for combo in combinations(extras, size):
                if len({(slots[i][1], slots[i][3]) for i in combo}) != size:
                    continue
                chosen = tuple(apology) + ((fix,) if fix is not None else ()) + combo
                picked = tuple(probes[i] for i in chosen)
                if all(req.met_by(picked) for req in requirements):
                    matches = tuple(
                        tuple(p for p, probe in enumerate(picked) if req.met_by((probe,)))
                        for req in requirements
                    )
                    shape = PlanShape.of(picked)._replace(
                        requirement_matches=(requirements, matches)
                    )
                    found.append((chosen, shape))
    return tuple(found)


@lru_cache(maxsize=4096)
def _positions(
    slots: tuple[tuple[str, str, str | None, str], ...],
    requirements: tuple[Requirement, ...],
    max_extras: int,
) -> np.ndarray:
    """Per plan of `_combinations`, its actions' positions among the eligible ones, padded with
    `len(slots)` (a position past the end): the plans' layout, for features built as arrays."""
    combos = _combinations(slots, requirements, max_extras)
    width = max((len(chosen) for chosen, _ in combos), default=0)
    positions = np.full((len(combos), width), len(slots), dtype=np.intp)
    for row, (chosen, _) in enumerate(combos):
        positions[row, : len(chosen)] = chosen
    positions.flags.writeable = False
    return positions


class PlanList(list[Plan]):
    """The plans of one incident as the planner built them, with their layout: the eligible
    `actions` and, per plan, the `positions` of its actions among them. A scorer given this
    very list builds the plans' feature columns as arrays (models/plan_features.py
    `plan_columns`); any other list of plans is built plan by plan, to the same numbers."""

    actions: list[Action]
    positions: np.ndarray


@dataclass(frozen=True)
class _Probe:
    """The parts of an action that requirements look at."""

    item_id: str
    kind: Kind
    level: str | None
    audience: str


def enumerate_plans(
    incident: Incident,
    actions: list[Action],
    requirements: list[Requirement],
    max_extras: int,
    fired_rules: tuple[str, ...] = (),
) -> list[Plan]:
    """Enumerate every plan that meets all requirements, in a stable order."""
    slots = tuple((a.item_id, a.kind, a.level, a.audience) for a in actions)
    combos = _combinations(slots, tuple(requirements), max_extras)
    plans = PlanList(
        Plan(tuple(actions[i] for i in combo), incident.currency, fired_rules, shape)
        for combo, shape in combos
    )
    plans.actions = actions
    plans.positions = _positions(slots, tuple(requirements), max_extras)
    return plans


@lru_cache(maxsize=1024)
def requirement_positions(
    remembered: tuple[Requirement, ...], wanted: tuple[Requirement, ...]
) -> tuple[int, ...] | None:
    """Where each of `wanted` sits in `remembered`, in order; None if it is not a subsequence.

    A plan remembers which of its actions meet each requirement the planner saw; the cost of
    what the rules require beyond the fix asks about a subsequence of those requirements.
    """
    positions: list[int] = []
    start = 0
    for requirement in wanted:
        found = next(
            (i for i in range(start, len(remembered)) if remembered[i] == requirement), None
        )
        if found is None:
            return None
        positions.append(found)
        start = found + 1
    return tuple(positions)

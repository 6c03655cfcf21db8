"""When a personal-contact level has no capacity left today, offer the next level down.

A rule may require a manager's call; when today's manager calls are all promised, no plan could
meet it and the agent would be left with nothing. Instead the requirement is lowered to the most
senior level still available (or dropped when none is), items of the used-up levels are left out,
and a note says what ran out and what was substituted, so the agent can tell the customer and a
lead can add capacity (`contact_capacity` in the caps).
"""

from __future__ import annotations

import dataclasses

from catalog.items import Catalog
from remedy.decisions.rules import RuleOutcome
from remedy.domain import CONTACT_LEVELS, Kind, contact_rank
from remedy.facts import Fact, Level, fact

# Stands where a rule id would in `RuleOutcome.forbidden`: capacity, not a rule, left it out.
USED_UP = "capacity"


def offered_levels(outcome: RuleOutcome, catalog: Catalog) -> frozenset[str]:
    """The personal-contact levels the rules leave on offer (before any capacity ran out)."""
    return frozenset(
        item.level
        for item in catalog.items
        if item.kind == Kind.PERSONAL_CONTACT
        and item.level is not None
        and (item.enabled_by_default or item.id in outcome.allowed)
        and item.id not in outcome.forbidden
    )


def contact_floors(outcome: RuleOutcome) -> tuple[str, ...]:
    """The minimum levels of the personal contacts the rules require."""
    return tuple(
        r.min_level
        for r in outcome.requirements
        if r.kind == Kind.PERSONAL_CONTACT and r.min_level is not None
    )


def _unmet(level: str, offered: frozenset[str]) -> bool:
    """Whether no offered level is at least `level` (the requirement must be lowered)."""
    return not any(contact_rank(lvl) >= contact_rank(level) for lvl in offered)


def changes_requirements(
    floors: tuple[str, ...], offered: frozenset[str], used_up: frozenset[str]
) -> bool:
    """Whether running out of `used_up` lowers or drops a requirement (`floors`, `offered`: as
    `contact_floors` and `offered_levels` give them).

    When it does not, substituting only leaves out the plans holding a used-up level: the same
    plans, scores and order otherwise, so a replay that found no fitting plan among the ones it
    had finds none after substituting either, and need not decide again (remedy/whatif/replay.py).
    """
    left = offered - used_up
    return any(_unmet(level, left) for level in floors)


def substitute_contacts(
    outcome: RuleOutcome, catalog: Catalog, used_up: frozenset[str]
) -> list[Fact]:
    """Rewrite `outcome` so no plan needs a used-up level; return the notes saying so."""
    offered = offered_levels(outcome, catalog) - used_up
    for item in catalog.items:
        if item.kind == Kind.PERSONAL_CONTACT and item.level in used_up:
            outcome.forbidden.setdefault(item.id, USED_UP)
    notes: list[Fact] = []
    lowered = []
    for requirement in outcome.requirements:
        level = requirement.min_level
        if requirement.kind != Kind.PERSONAL_CONTACT or level is None:
            lowered.append(requirement)
            continue
        if _unmet(level, offered):
            below = [lvl for lvl in CONTACT_LEVELS[: contact_rank(level) - 1] if lvl in offered]
            if below:
                lowered.append(dataclasses.replace(requirement, min_level=below[-1]))
                notes.append(
                    fact(
                        "contact_lowered",
                        level=Level(level),
                        rule=requirement.rule_id,
                        lower=Level(below[-1]),
                    )
                )
            else:
                notes.append(fact("contact_dropped", rule=requirement.rule_id, level=Level(level)))
            continue
        lowered.append(requirement)
    outcome.requirements = lowered
    return notes

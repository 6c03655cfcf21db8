"""Decide one logged incident for a replay: only what spending needs, nothing said in words.

The service's `DecisionEngine.guard` writes, for every candidate, why it was dropped or needs
approval, in the customer's language: an agent reads those. A replay reads none of them, only
which plans the guardrails keep (in ranked order), whether the best-scored plan was capped, and
which kept plans need approval, so `decide` applies the same three tests (the fix ceiling, the
incident cap on the overdelivery, the approval threshold and the items that always need it) to
the ranking without building candidates or texts: the same answer at a fraction of the cost
(`tests/whatif/test_deciding.py` checks it against `guard`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from remedy.decisions.approvals import make_whole_cost
from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, Ranked
from remedy.decisions.ranker import ScoredPlan
from remedy.decisions.substitution import changes_requirements, contact_floors, offered_levels
from remedy.domain import Incident
from remedy.ledger.limits import fix_share
from remedy.money import to_minor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Choice:
    """One kept plan as spending needs it."""

    cost: Decimal
    cost_minor: int
    contact_level: str | None  # the plan's most senior personal contact: it takes one of these
    net_value: Decimal
    p_stay: Decimal
    requires_approval: bool
    kind_costs: tuple[tuple[str, Decimal], ...]
    # the part of cost_minor a pool's fix line carries (remedy.ledger.limits.fix_share)
    fix_minor: int = 0


@dataclass(frozen=True, slots=True)
class Decided:
    """What an engine decided for one incident, compactly.

    `kept` holds, best first, only the kept plans no better plan dominates. A better plan
    dominates when it costs no more, in its fix part and in the rest (a pool may hold them on
    two lines), and takes no contact the worse one does not (none, or one of the same level):
    whatever is left of the pool's lines, the window and each level's capacity, it fits
    whenever the worse plan does, so spending would take it first. Money and contact levels
    are the only things the limits look at, so spending may choose only these plans.
    """

    configured: bool
    capped: bool
    kept: tuple[Choice, ...]
    # The ranking's personal-contact requirements (their minimum levels) and the levels on
    # offer, for `may_substitute`; None: not known, so spending decides again when one runs out.
    contacts: tuple[tuple[str, ...], frozenset[str]] | None = None

    def may_substitute(self, used_up: frozenset[str]) -> bool:
        """Whether deciding again without the `used_up` levels can offer a plan not in `kept`.

        Only when it lowers or drops a requirement (remedy/decisions/substitution.py): else the
        substitution keeps the same plans less those holding a used-up level, which spending
        has already found do not fit.
        """
        if self.contacts is None:
            return True
        floors, offered = self.contacts
        return bool(floors) and changes_requirements(floors, offered, used_up)


def undominated(
    plans: Iterable[T],
    shape: Callable[[T], tuple[Decimal, str | None]],
    fix: Callable[[T], Decimal] | None = None,
) -> Iterator[T]:
    """Yield, in order, the plans (best first) no earlier plan dominates.

    `shape` gives a plan's cost and contact level. An earlier plan dominates when it costs no
    more and has no contact or one of the same level; with `fix` (a plan's fix part), when
    its fix part and the rest each cost no more.
    """
    if fix is not None:
        yield from _undominated_by_line(plans, shape, fix)
        return
    cheapest: dict[str | None, Decimal] = {}  # contact level -> least cost so far
    for plan in plans:
        cost, level = shape(plan)
        bound, free = cheapest.get(level), cheapest.get(None)
        if free is not None and (bound is None or free < bound):
            bound = free
        if bound is not None and cost >= bound:
            continue
        cheapest[level] = cost  # below every earlier plan of its level, or it was dominated
        yield plan


def _undominated_by_line(
    plans: Iterable[T],
    shape: Callable[[T], tuple[Decimal, str | None]],
    fix: Callable[[T], Decimal],
) -> Iterator[T]:
    """`undominated` on two money parts: a plan is dominated by an earlier one of its level (or
    without contact) whose fix part and rest each cost no more (a short frontier per level)."""
    frontier: dict[str | None, list[tuple[Decimal, Decimal]]] = {}
    for plan in plans:
        cost, level = shape(plan)
        fixed = fix(plan)
        rest = cost - fixed
        earlier = frontier.get(level, []) + (frontier.get(None, []) if level is not None else [])
        if any(f <= fixed and r <= rest for f, r in earlier):
            continue
        frontier.setdefault(level, []).append((fixed, rest))
        yield plan


def _fix(scored: ScoredPlan) -> Decimal:
    """A kept plan's fix part: what its fix items cost, never more than the plan."""
    plan = scored.plan
    return max(Decimal(0), min(plan.fix_cost, plan.total_cost))


def _shape(scored: ScoredPlan) -> tuple[Decimal, str | None]:
    """A kept plan's cost and contact level."""
    plan = scored.plan
    return plan.total_cost, plan.contact_level


def _guarded(
    engine: DecisionEngine, incident: Incident, ranked: Ranked
) -> tuple[bool, list[ScoredPlan], Callable[[ScoredPlan], bool]]:
    """The guardrails' cap and ceiling on a ranking: whether the best-scored plan was dropped,
    the kept plans best first, and the test of whether a kept plan needs approval (asked only
    for the plans spending may choose: most kept plans are dominated)."""
    caps = engine.caps
    if not caps.supports(incident.currency):
        raise CurrencyNotConfigured(incident.currency)
    # as `guard` does: a no-loss incident's cap is sized on the caps' no-loss basis
    incident = caps.sized(incident)
    cap = caps.incident_cap(incident, ranked.outcome.cap_factor)
    ceiling = caps.fix_ceiling.get(cap.currency)
    limit, tiers, currency, loss = cap.amount, caps.approvals, cap.currency, incident.loss_amount
    kept: list[ScoredPlan] = []
    capped = False
    for index, (scored, required) in enumerate(zip(ranked.scored, ranked.required, strict=True)):
        plan = scored.plan
        cost, fix_cost = plan.total_cost, plan.fix_cost
        if (ceiling is not None and fix_cost > ceiling) or cost - fix_cost - required > limit:
            capped = capped or index == 0
            continue
        kept.append(scored)

    def approval(scored: ScoredPlan) -> bool:
        plan = scored.plan
        always = any(a.requires_approval for a in plan.actions)
        # The engine's rule, not a copy: a make-whole fix within fix_without_approval is not
        # counted (approvals.py).
        counted = tiers.counted(plan.total_cost, currency, make_whole_cost(plan.fix_cost, loss))
        return tiers.needs_approval(counted, currency, always)

    return capped, kept, approval


def kept_plans(
    engine: DecisionEngine, incident: Incident, ranked: Ranked
) -> tuple[bool, list[tuple[ScoredPlan, bool]]]:
    """Apply `engine`'s guardrails to a ranking as `DecisionEngine.guard` does, without words.

    Return whether the best-scored plan was dropped, and the kept plans best first, each with
    whether it needs approval. Raises CurrencyNotConfigured as `guard` does.
    """
    capped, kept, approval = _guarded(engine, incident, ranked)
    return capped, [(scored, approval(scored)) for scored in kept]


def decide(
    engine: DecisionEngine,
    incident: Incident,
    rank: Callable[[DecisionEngine, Incident], Ranked] | None = None,
    used_up: frozenset[str] = frozenset(),
) -> Decided:
    """Decide one incident with `engine` (no exploration) and keep what spending needs.

    `rank` supplies the engine's ranking when it may be shared (`CachingScorer.ranked`);
    the engine then only applies its caps. `used_up` names contact levels with no capacity
    left, for the service's substitution when nothing else fits.
    """
    try:
        if rank is None or used_up:
            ranked = engine.rank(incident, used_up=used_up)
        else:
            ranked = rank(engine, incident)
    except CurrencyNotConfigured:
        return Decided(False, False, ())
    return decided_from(engine, incident, ranked)


def decided_from(
    engine: DecisionEngine, incident: Incident, ranked: Ranked | CurrencyNotConfigured
) -> Decided:
    """`decide` from a ranking already made (`DecisionEngine.rank_many`'s, error included)."""
    if isinstance(ranked, CurrencyNotConfigured):
        return Decided(False, False, ())
    try:
        capped, kept, needs_approval = _guarded(engine, incident, ranked)
    except CurrencyNotConfigured:
        return Decided(False, False, ())
    chain: list[Choice] = []
    for scored in undominated(kept, _shape, _fix):
        plan = scored.plan
        approval = needs_approval(scored)
        kinds: defaultdict[str, Decimal] = defaultdict(Decimal)
        for action in plan.actions:
            kinds[str(action.kind)] += action.cost
        cost_minor = to_minor(plan.total_cost, incident.currency)
        chain.append(
            Choice(
                plan.total_cost,
                cost_minor,
                plan.contact_level,
                scored.expected_net_value,
                scored.p_stay,
                approval,
                tuple(kinds.items()),
                fix_share(cost_minor, to_minor(plan.fix_cost, incident.currency)),
            )
        )
    outcome = ranked.outcome
    floors = contact_floors(outcome)
    offered = offered_levels(outcome, engine.catalog) if floors else frozenset()
    return Decided(True, capped, tuple(chain), (floors, offered))

"""Recommendations against what is left: leave out plans that no longer fit, explain pacing.

Both work on the engine's ranked candidates after `DecisionEngine.decide`, so the decision
pipeline itself stays unaware of budgets beyond the shadow price it is given.
"""

from __future__ import annotations

from decimal import Decimal

from remedy.decisions.engine import Candidate
from remedy.ledger.limits import Headroom
from remedy.money import from_minor, to_minor


def misfit(cost_minor: int, level: str | None, headroom: Headroom) -> str | None:
    """Say which remaining limit a plan no longer fits, or None if it fits them all."""
    pool = headroom.pool
    if pool is not None and cost_minor > pool.remaining_minor:
        left = from_minor(pool.remaining_minor, pool.currency)
        return f"the pool {pool.label} has {left} {pool.currency} left"
    window = headroom.window
    if window.remaining_minor is not None and cost_minor > window.remaining_minor:
        left = from_minor(window.remaining_minor, window.currency)
        return (
            f"customer {window.customer_id} has {left} {window.currency} left of the "
            f"{window.days}-day limit"
        )
    capacity = headroom.capacities.get(level) if level else None
    if capacity is not None and capacity.remaining == 0:
        return f"no {level} contact is left today ({capacity.used} of {capacity.capacity} taken)"
    return None


def drop_misfits(candidates: list[Candidate], headroom: Headroom, currency: str) -> set[str]:
    """Mark kept candidates that no longer fit as dropped; return their plan ids."""
    dropped: set[str] = set()
    for candidate in candidates:
        if candidate.dropped_reason is not None:
            continue
        plan = candidate.scored.plan
        reason = misfit(to_minor(plan.total_cost, currency), plan.contact_level, headroom)
        if reason is not None:
            candidate.dropped_reason = f"no longer fits: {reason}"
            dropped.add(candidate.plan_id)
    return dropped


def misfit_note(candidates: list[Candidate], dropped: set[str]) -> str | None:
    """Summarise the plans left out for the remaining budget, if any."""
    if not dropped:
        return None
    reasons = sorted(
        {
            (c.dropped_reason or "").removeprefix("no longer fits: ")
            for c in candidates
            if c.plan_id in dropped
        }
    )
    return f"{len(dropped)} plan(s) left out because they no longer fit: " + "; ".join(reasons)


def pacing_effect(candidates: list[Candidate], headroom: Headroom, currency: str) -> list[str]:
    """Explain the shadow price: add it to each kept plan's reasons; return the decision notes."""
    pool, pace = headroom.pool, headroom.pace
    if pool is None or pace is None:
        return []
    kept = [c for c in candidates if c.dropped_reason is None]
    where = f"pool {pool.label} is {pace.describe()}"
    if not pace.ahead:
        return [f"budget pacing: {where}; cost counted at its price (shadow price 1)"]
    extra = pace.price - 1
    for candidate in kept:
        cost = candidate.scored.plan.total_cost
        candidate.extra_reasons.append(
            f"budget pacing: cost {cost} {currency} counted as "
            f"{(cost * pace.price).quantize(cost)} {currency} (shadow price {pace.price})"
        )
    notes = [
        f"budget pacing: {where}; cost priced at {pace.price}x so cheaper plans win unless an "
        "expensive one is worth that much more"
    ]
    if kept:
        paced = kept[0]

        def unpaced_value(c: Candidate) -> Decimal:
            """The expected net value at shadow price 1."""
            return c.scored.expected_net_value + c.scored.plan.total_cost * extra

        unpaced = max(kept, key=lambda c: (unpaced_value(c), -c.scored.plan.total_cost))
        if unpaced.plan_id != paced.plan_id:
            notes.append(
                f"budget pacing changed the top plan from {unpaced.plan_id} "
                f"(cost {unpaced.scored.plan.total_cost} {currency}) to {paced.plan_id} "
                f"(cost {paced.scored.plan.total_cost} {currency})"
            )
        else:
            notes.append(f"budget pacing left the top plan ({paced.plan_id}) unchanged")
    return notes

"""Recommendations against what is left: leave out plans that no longer fit, explain pacing.

Both work on the engine's ranked candidates after `DecisionEngine.decide`, so the decision
pipeline itself stays unaware of budgets beyond the shadow price it is given.
"""

from __future__ import annotations

from decimal import Decimal

from remedy.decisions.engine import Candidate
from remedy.domain import Plan
from remedy.facts import Fact, Level, Many, Money, Number, Share, fact
from remedy.ledger.limits import Headroom
from remedy.ledger.pacing import paced_minor
from remedy.money import from_minor, to_minor


def misfit(
    cost_minor: int, level: str | None, headroom: Headroom, fix_minor: int = 0
) -> tuple[str, Fact] | None:
    """Which remaining limit a plan no longer fits (pool, window or capacity) and why; None if
    it fits them all. On a pool split into lines, the plan's fix part (`fix_minor`) must fit
    the fix line and the rest the overdelivery line; the fact names the line."""
    pool = headroom.pool
    if pool is not None and pool.split:
        fix_line, overdelivery_line = pool.fix_line, pool.overdelivery_line
        if fix_minor > fix_line.remaining_minor:
            left = Money(from_minor(fix_line.remaining_minor, pool.currency), pool.currency)
            return "pool", fact("fix_line_left", pool=pool.label, left=left)
        if cost_minor - fix_minor > overdelivery_line.remaining_minor:
            left = Money(
                from_minor(overdelivery_line.remaining_minor, pool.currency), pool.currency
            )
            return "pool", fact("overdelivery_line_left", pool=pool.label, left=left)
    elif pool is not None and cost_minor > pool.remaining_minor:
        left = Money(from_minor(pool.remaining_minor, pool.currency), pool.currency)
        return "pool", fact("pool_left", pool=pool.label, left=left)
    window = headroom.window
    if window.remaining_minor is not None and cost_minor > window.remaining_minor:
        left = Money(from_minor(window.remaining_minor, window.currency), window.currency)
        return "window", fact(
            "window_left", customer=window.customer_id, left=left, days=window.days
        )
    capacity = headroom.capacities.get(level) if level else None
    if capacity is not None and capacity.remaining == 0:
        return "capacity", fact(
            "capacity_used",
            level=Level(capacity.level),
            used=capacity.used,
            capacity=capacity.capacity,
        )
    return None


def drop_misfits(candidates: list[Candidate], headroom: Headroom, currency: str) -> dict[str, Fact]:
    """Mark kept candidates that no longer fit as dropped; return their plan ids and why."""
    dropped: dict[str, Fact] = {}
    for candidate in candidates:
        if candidate.dropped_reason is not None:
            continue
        plan = candidate.scored.plan
        cost = to_minor(plan.total_cost, currency)
        fix = min(cost, to_minor(plan.fix_cost, currency))
        found = misfit(cost, plan.contact_level, headroom, fix)
        if found is not None:
            candidate.dropped_by, reason = found
            candidate.dropped_reason = fact("no_longer_fits", reason=reason)
            dropped[candidate.plan_id] = reason
    return dropped


def misfit_note(dropped: dict[str, Fact]) -> Fact | None:
    """Summarise the plans left out for the remaining budget (`drop_misfits`' answer), if any."""
    if not dropped:
        return None
    reasons = tuple(dict.fromkeys(dropped.values()))
    return fact("misfits", n=len(dropped), reasons=Many(reasons, "; "))


def pacing_effect(candidates: list[Candidate], headroom: Headroom, currency: str) -> list[Fact]:
    """Explain the shadow price: add it to each kept plan's reasons; return the decision notes
    (finance reads the numbers; an agent reads that cheaper plans are preferred). The price
    comes from the pool's overdelivery line (the whole pool when it has one line), and the
    notes say which."""
    pool, pace = headroom.pool, headroom.pace
    if pool is None or pace is None:
        return []
    kept = [c for c in candidates if c.dropped_reason is None]
    spent, elapsed = Share(pace.spent_share), Share(pace.elapsed_share)
    if pool.split:
        where = fact("pacing_where_line", pool=pool.label, spent=spent, elapsed=elapsed)
    else:
        where = fact("pacing_where", pool=pool.label, spent=spent, elapsed=elapsed)
    if not pace.ahead:
        return [fact("pacing_price_one", where=where)]
    price = Number(pace.price)
    for candidate in kept:
        cost = candidate.scored.plan.total_cost
        candidate.extra_reasons.append(
            fact(
                "pacing_counted",
                cost=Money(cost, currency),
                paced=Money(paced_cost(candidate.scored.plan, pace.price, currency), currency),
                price=price,
            )
        )
    notes = [fact("pacing_tight"), fact("pacing_priced", where=where, price=price)]
    if kept:
        paced = kept[0]

        def unpaced_value(c: Candidate) -> Decimal:
            """The expected net value at shadow price 1."""
            plan = c.scored.plan
            return (
                c.scored.expected_net_value
                + paced_cost(plan, pace.price, currency)
                - plan.total_cost
            )

        unpaced = max(kept, key=lambda c: (unpaced_value(c), -c.scored.plan.total_cost))
        if unpaced.plan_id != paced.plan_id:
            notes.append(
                fact(
                    "pacing_changed_top",
                    unpaced=unpaced.plan_id,
                    unpaced_cost=Money(unpaced.scored.plan.total_cost, currency),
                    paced=paced.plan_id,
                    paced_cost=Money(paced.scored.plan.total_cost, currency),
                )
            )
        else:
            notes.append(fact("pacing_kept_top", plan=paced.plan_id))
    return notes


def paced_cost(plan: Plan, price: Decimal, currency: str) -> Decimal:
    """What the ranker counted a plan's cost as at pacing's shadow price (its overdelivery part
    priced up, the fix at its price)."""
    minor = paced_minor(
        to_minor(plan.total_cost, currency), to_minor(plan.fix_cost, currency), price
    )
    return from_minor(minor, currency)

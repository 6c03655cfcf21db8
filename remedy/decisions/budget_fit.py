"""Recommendations against what is left: leave out plans that no longer fit, explain pacing.

Both work on the engine's ranked candidates after `DecisionEngine.decide`, so the decision
pipeline itself stays unaware of budgets beyond the shadow price it is given.
"""

from __future__ import annotations

from decimal import Decimal

from catalog.names import level_name
from remedy.decisions.engine import Candidate
from remedy.i18n import Messages
from remedy.ledger.limits import Headroom
from remedy.money import from_minor, to_minor


def misfit(
    cost_minor: int, level: str | None, headroom: Headroom, m: Messages
) -> tuple[str, str] | None:
    """Say which remaining limit a plan no longer fits (pool, window or capacity) and why, in
    `m`'s language; None if it fits them all."""
    pool = headroom.pool
    if pool is not None and cost_minor > pool.remaining_minor:
        left = m.money(from_minor(pool.remaining_minor, pool.currency), pool.currency)
        # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)".
        return "pool", m("the pool {pool} has {left} left", pool=pool.label, left=left)
    window = headroom.window
    if window.remaining_minor is not None and cost_minor > window.remaining_minor:
        left = m.money(from_minor(window.remaining_minor, window.currency), window.currency)
        return "window", m(
            "customer {customer} has {left} left of the {days}-day limit",
            customer=window.customer_id,
            left=left,
            days=window.days,
        )
    capacity = headroom.capacities.get(level) if level else None
    if capacity is not None and capacity.remaining == 0:
        return "capacity", m(
            "no {level} contact is left today ({used} of {capacity} taken)",
            level=level_name(capacity.level, m),
            used=capacity.used,
            capacity=capacity.capacity,
        )
    return None


def drop_misfits(
    candidates: list[Candidate], headroom: Headroom, currency: str, m: Messages
) -> dict[str, str]:
    """Mark kept candidates that no longer fit as dropped; return their plan ids and why."""
    dropped: dict[str, str] = {}
    for candidate in candidates:
        if candidate.dropped_reason is not None:
            continue
        plan = candidate.scored.plan
        found = misfit(to_minor(plan.total_cost, currency), plan.contact_level, headroom, m)
        if found is not None:
            candidate.dropped_by, reason = found
            candidate.dropped_reason = m("no longer fits: {reason}", reason=reason)
            dropped[candidate.plan_id] = reason
    return dropped


def misfit_note(dropped: dict[str, str], m: Messages) -> str | None:
    """Summarise the plans left out for the remaining budget (`drop_misfits`' answer), if any."""
    if not dropped:
        return None
    return m.plural(
        "{n} plan left out because it no longer fits: {reasons}",
        "{n} plans left out because they no longer fit: {reasons}",
        len(dropped),
        reasons="; ".join(sorted(set(dropped.values()))),
    )


def pacing_effect(
    candidates: list[Candidate], headroom: Headroom, currency: str, m: Messages
) -> list[str]:
    """Explain the shadow price: add it to each kept plan's reasons; return the decision notes."""
    pool, pace = headroom.pool, headroom.pace
    if pool is None or pace is None:
        return []
    kept = [c for c in candidates if c.dropped_reason is None]
    # Translators: {pool} is the pool's name, such as "emea/2026-11 (EUR)"; {spent} and
    # {elapsed} are percentages.
    where = m(
        "pool {pool} is {spent} spent at {elapsed} of the period",
        pool=pool.label,
        spent=m.percent(pace.spent_share),
        elapsed=m.percent(pace.elapsed_share),
    )
    if not pace.ahead:
        return [
            m("budget pacing: {where}; cost counted at its price (shadow price 1)", where=where)
        ]
    extra = pace.price - 1
    price = m.number(pace.price)
    counted_as = m("budget pacing: cost {cost} counted as {paced} (shadow price {price})")
    for candidate in kept:
        cost = candidate.scored.plan.total_cost
        candidate.extra_reasons.append(
            counted_as.format(
                cost=m.money(cost, currency),
                paced=m.money((cost * pace.price).quantize(cost), currency),
                price=price,
            )
        )
    notes = [
        m(
            "budget pacing: {where}; cost priced at {price}x so cheaper plans win unless an "
            "expensive one is worth that much more",
            where=where,
            price=price,
        )
    ]
    if kept:
        paced = kept[0]

        def unpaced_value(c: Candidate) -> Decimal:
            """The expected net value at shadow price 1."""
            return c.scored.expected_net_value + c.scored.plan.total_cost * extra

        unpaced = max(kept, key=lambda c: (unpaced_value(c), -c.scored.plan.total_cost))
        if unpaced.plan_id != paced.plan_id:
            notes.append(
                # Translators: {unpaced} and {paced} are plan ids, such as "apology+refund_full".
                m(
                    "budget pacing changed the top plan from {unpaced} (cost {unpaced_cost}) "
                    "to {paced} (cost {paced_cost})",
                    unpaced=unpaced.plan_id,
                    unpaced_cost=m.money(unpaced.scored.plan.total_cost, currency),
                    paced=paced.plan_id,
                    paced_cost=m.money(paced.scored.plan.total_cost, currency),
                )
            )
        else:
            notes.append(
                m("budget pacing left the top plan ({plan}) unchanged", plan=paced.plan_id)
            )
    return notes

"""Decide one incident in one call: headroom in, the whole decision (as data) out.

The service around it reads what deciding needs (the customer's earlier incidents, the
budget's headroom), calls `decide` once and stores the record; nothing comes back up to it
for more. Inside, in order: the engine (rules, plans, ranking, caps) at pacing's shadow price;
plans that no longer fit the pool, the customer window or today's contact capacity are left
out; when nothing fits because a contact level is used up, the plans a lower level allows are
offered instead; the notes say what bound and who can lift it; logged exploration picks the
plan shown first; the record holds every candidate, and for each plan shown its reasons and
talking points, all as facts (`remedy.facts`) that `remedy.presenting` says for each reader.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from catalog.items import NotPriceable
from remedy.decisions.budget_fit import drop_misfits, misfit, misfit_note, pacing_effect
from remedy.decisions.engine import Blocked, Candidate, DecisionEngine, DecisionResult
from remedy.decisions.exploration import ExplorationPolicy, explorable, shown_order
from remedy.decisions.record import (
    DecisionRecord,
    DroppedBy,
    Presentation,
    PricedItem,
    StoredCandidate,
    StoredCap,
)
from remedy.decisions.talking_points import Clock, talking_points
from remedy.domain import Incident, Kind, Plan, contact_rank
from remedy.facts import Fact, fact
from remedy.ledger.limits import Headroom
from remedy.money import to_minor


@dataclass(frozen=True)
class Decided:
    """A decision as data, ready to store."""

    record: DecisionRecord
    versions: dict[str, str]
    propensity: Decimal  # the probability the plan shown first was shown first
    cost_price: Decimal  # pacing's shadow price the plans were ranked at (1: none)

    @property
    def explored(self) -> bool:
        """Exploration showed a plan other than the best offered one first."""
        return self.record.explored


def decide(
    engine: DecisionEngine,
    incident: Incident,
    headroom: Headroom,
    limit: int,
    exploration: ExplorationPolicy | None = None,
    rng: random.Random | None = None,
    at: datetime | None = None,
) -> Decided:
    """Decide `incident` within `headroom`, showing at most `limit` plans (plus the most
    generous one), exploring by `exploration` (off when None); `at` is when (default: when the
    incident was reported), for the promises' clock."""
    exploration = exploration or ExplorationPolicy(Decimal(0))
    currency = incident.currency
    price = headroom.pace.price if headroom.pace else Decimal(1)
    result = engine.decide(incident, cost_price=price)
    misfits = drop_misfits(result.candidates, headroom, currency)
    used_up = frozenset(
        level for level, capacity in headroom.capacities.items() if capacity.remaining == 0
    )
    if not result.kept and used_up:
        # Nothing fits because today's contacts of a level are all promised: offer the plans
        # a lower level (or none) allows, and say so, rather than nothing.
        substitute = engine.decide(incident, cost_price=price, used_up=used_up)
        substitute_misfits = drop_misfits(substitute.candidates, headroom, currency)
        if substitute.kept:
            result, misfits = substitute, substitute_misfits
    notes = result.notes
    notes.extend(pacing_effect(result.candidates, headroom, currency))
    note = misfit_note(misfits)
    if note is not None:
        notes.append(note)
    if headroom.pool is None:
        notes.append(fact("no_pool", team=incident.team, currency=currency))
    # A late answer first: the agent reads it before anything else.
    notes[:0] = Clock.of(incident, engine.caps.promises, at).notes()
    if incident.prior_incidents:
        notes.append(
            fact(
                "repeat_victim",
                n=incident.prior_incidents + 1,
                days=engine.caps.repeat_window_days,
            )
        )
    if not result.kept:
        blocked = blocked_by(result)
        notes.append(_nothing_fits(result, blocked))
        fallback = _fallback(engine, result, headroom, price, blocked)
        if fallback is not None:
            result.candidates.append(fallback)
            notes.append(fact("fallback_offered", how=blocked.how))
    kept = [c.plan_id for c in result.kept]
    eligible = explorable(incident, [c.requires_approval for c in result.kept])
    values = [c.scored.expected_net_value for c in result.kept]
    first, propensity = exploration.choose_first(
        len(kept), rng or random.Random(), eligible, values
    )
    if first:
        notes.append(fact("exploring", rank=first + 1, probability=str(propensity)))
    shown = shown_order(kept, first, limit)
    generous = result.generous
    if generous is not None and generous.plan_id not in shown:
        shown.append(generous.plan_id)  # the most generous plan within the guardrails
    record = _record(engine, result, shown, misfits, generous, at)
    return Decided(record, result.versions, propensity, price)


def _record(
    engine: DecisionEngine,
    result: DecisionResult,
    shown: list[str],
    misfits: dict[str, Fact],
    generous: Candidate | None,
    at: datetime | None = None,
) -> DecisionRecord:
    """The record of a decision: every candidate, and the presentation of the plans shown."""
    incident = result.incident
    cap = result.cap
    catalog = engine.catalog
    priced: dict[str, PricedItem] = {}
    for candidate in result.candidates:
        for a in candidate.scored.plan.actions:
            if a.item_id not in priced:
                priced[a.item_id] = PricedItem.of(a, catalog.item(a.item_id).labels)
    by_id = {c.plan_id: c for c in result.candidates}
    promises = engine.caps.promises
    return DecisionRecord(
        incident=incident,
        cap=StoredCap(
            cap.amount, cap.currency, cap.binding, cap.terms, cap.factor, cap.approval_threshold
        ),
        fired_rules=result.fired_rules,
        excluded_items=result.excluded_items,
        notes=result.notes,
        priced_items=priced,
        candidates=[_stored(c, c.plan_id in misfits) for c in result.candidates],
        shown=shown,
        generous=generous.plan_id if generous is not None else None,
        language=incident.language,
        presentation={
            plan_id: Presentation(
                result.reasons(by_id[plan_id]),
                talking_points(incident, by_id[plan_id].scored.plan, promises, at),
            )
            for plan_id in shown
        },
    )


# Which limit blocks a plan, who can lift it, and how; budget limits first: a plan the cap
# ruled out is never acceptable, so when better plans fail the pool or the window, those limits
# are what stands between the customer and the plan.
_LIFTS = {
    "pool": ("finance", "who_pool"),
    "window": ("finance", "who_window"),
    "capacity": ("lead", "who_capacity"),
    "fix_ceiling": ("finance", "who_caps"),
    "incident_cap": ("finance", "who_caps"),
    "rules": ("admin", "who_rules"),
}
_BINDING_ORDER = ("pool", "window", "capacity", "fix_ceiling", "incident_cap")


def blocked_by(result: DecisionResult) -> Blocked:
    """The limit that blocked every plan: the one the best plan that only a limit (not the
    cap) stopped ran into, else the fix ceiling, else the cap; `rules` when the rules allow no
    plan at all."""
    if not result.candidates:
        limit = "rules"
    else:
        limits = [c.dropped_by for c in result.candidates]
        limit = next((name for name in _BINDING_ORDER if name in limits), "incident_cap")
    who, how = _LIFTS[limit]
    reason = next((c.dropped_reason for c in result.candidates if c.dropped_by == limit), None)
    return Blocked(limit, who, fact(how), reason)


def _nothing_fits(result: DecisionResult, blocked: Blocked) -> Fact:
    """Why no plan the ranking wanted is offered, naming the limit that bound, and who can
    change that."""
    if blocked.reason is None:
        return fact("nothing_built")
    return fact("nothing_fits_who", reason=blocked.reason, who=blocked.how)


def _fallback(
    engine: DecisionEngine,
    result: DecisionResult,
    headroom: Headroom,
    price: Decimal,
    blocked: Blocked,
) -> Candidate | None:
    """Never nothing: an apology and the most senior person still available (capacity left,
    not ruled out, fits what is left of the pool and the window), flagged with the limit that
    blocked the rest. None only when the catalog has no apology to offer."""
    incident = result.incident
    catalog = engine.catalog
    apology = next(
        (i for i in catalog.items if i.kind == Kind.APOLOGY and i.id not in result.excluded_items),
        None,
    )
    if apology is None:
        return None
    base = (apology.price(incident, catalog.staff_rates),)
    contacts = sorted(
        (
            i
            for i in catalog.items
            if i.kind == Kind.PERSONAL_CONTACT and i.id not in result.excluded_items
        ),
        key=lambda i: -contact_rank(i.level),
    )
    chosen = base
    for item in contacts:
        try:
            action = item.price(incident, catalog.staff_rates)
        except NotPriceable:
            continue
        cost = to_minor(action.cost, incident.currency)
        if misfit(cost, action.level, headroom) is None:
            chosen = (*base, action)
            break
    plan = Plan(chosen, incident.currency)
    (scored,) = engine.ranker.rank(incident, [plan], price)
    candidate = Candidate(scored)
    candidate.blocked_by = blocked
    return candidate


def _stored(candidate: Candidate, left_out: bool = False) -> StoredCandidate:
    """One candidate as stored; `left_out` marks a plan the budget left out at the time."""
    scored = candidate.scored
    plan = scored.plan
    reason = candidate.dropped_reason
    return StoredCandidate(
        plan_id=plan.plan_id,
        items=tuple(a.item_id for a in plan.actions),
        total_cost=plan.total_cost,
        total_value=plan.total_value,
        expected_net_value=scored.expected_net_value,
        p_stay=scored.p_stay,
        referrals=scored.referrals,
        requires_approval=candidate.requires_approval,
        dropped_reason=reason,
        dropped_by=DroppedBy.BUDGET if left_out else (DroppedBy.CAP if reason else None),
        approver=candidate.approver,
        blocked_by=None if candidate.blocked_by is None else candidate.blocked_by.to_json(),
    )

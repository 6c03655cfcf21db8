"""A small stand-in for the planner: a hard-coded priced catalog and the plans built from it.

The service's real planner (`remedy.decisions.planner`: catalog data + rules -> candidate plans)
is the source of candidates once it exists; everything in `training/` takes a
`candidates_fn(incident) -> list[Plan]` so it can be plugged in there. This module mirrors the
catalog the service ships (item ids, kinds, levels, value rules) closely enough to train the
day-one model, nothing more.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from remedy.domain import Action as PricedAction
from remedy.domain import FaultType, Incident, Kind, Plan
from remedy.money import quantize
from training.simulator import FX_PER_USD

CandidatesFn = Callable[[Incident], list[Plan]]


@dataclass(frozen=True, slots=True)
class CatalogItem:
    """A catalog item: its value is `loss_multiple` x loss plus `fixed_usd`, priced per incident."""

    item_id: str
    kind: Kind
    level: str | None = None
    loss_multiple: Decimal = Decimal(0)
    fixed_usd: Decimal = Decimal(0)
    cost_share: Decimal = Decimal(0)  # cost as a share of value
    cost_usd: Decimal = Decimal(0)  # fixed cost (staff time, shipping)
    requires_approval: bool = False
    audience: str = "customer"


CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem("apology", Kind.APOLOGY),
    CatalogItem("refund_half", Kind.REFUND, loss_multiple=Decimal("0.5"), cost_share=Decimal(1)),
    CatalogItem("refund_full", Kind.REFUND, loss_multiple=Decimal(1), cost_share=Decimal(1)),
    # Account credit costs the margin on what it buys, and some of it is never spent.
    CatalogItem("credit", Kind.CREDIT, loss_multiple=Decimal(1), cost_share=Decimal("0.5")),
    CatalogItem(
        "replacement", Kind.REPLACEMENT, loss_multiple=Decimal(1), cost_share=Decimal("0.6")
    ),
    CatalogItem("expedite", Kind.EXPEDITE, fixed_usd=Decimal(10), cost_usd=Decimal(6)),
    CatalogItem("upgrade", Kind.UPGRADE, fixed_usd=Decimal(25), cost_usd=Decimal(10)),
    *(
        CatalogItem(f"gift_{n}x", Kind.GIFT, loss_multiple=Decimal(n), cost_share=Decimal("0.4"))
        for n in (1, 2, 3, 5)
    ),
    CatalogItem(
        "gift_companions",
        Kind.GIFT,
        loss_multiple=Decimal(1),
        cost_share=Decimal("0.4"),
        audience="companions",
    ),
    CatalogItem("contact_agent", Kind.PERSONAL_CONTACT, "agent", cost_usd=Decimal(4)),
    CatalogItem("contact_manager", Kind.PERSONAL_CONTACT, "manager", cost_usd=Decimal(20)),
    CatalogItem(
        "contact_executive",
        Kind.PERSONAL_CONTACT,
        "executive",
        cost_usd=Decimal(100),
        requires_approval=True,
    ),
)
_SHIPPABLE = frozenset({"delivery", "product_defect"})


def _eligible(item: CatalogItem, incident: Incident) -> bool:
    """Apply the stand-in rules: what may be offered for this incident."""
    if item.kind == Kind.APOLOGY:
        return incident.fault_type != FaultType.CUSTOMER  # nothing to apologise for
    if item.kind in (Kind.REPLACEMENT, Kind.EXPEDITE):
        return incident.category in _SHIPPABLE
    if item.level == "executive":
        return incident.severity >= 3
    return True


def price(item: CatalogItem, incident: Incident) -> PricedAction:
    """Price a catalog item for an incident, in the incident's currency."""
    rate = Decimal(repr(FX_PER_USD.get(incident.currency, 1.0)))
    value = quantize(
        item.loss_multiple * incident.loss_amount + item.fixed_usd * rate, incident.currency
    )
    cost = quantize(item.cost_share * value + item.cost_usd * rate, incident.currency)
    return PricedAction(
        item.item_id, item.kind, item.level, value, cost, item.requires_approval, item.audience
    )


def candidate_plans(incident: Incident, max_overdelivery: int = 2) -> list[Plan]:
    """Return every plan: at most one fix, up to `max_overdelivery` extras, apology if eligible."""
    actions = [price(item, incident) for item in CATALOG if _eligible(item, incident)]
    apology = tuple(a for a in actions if a.kind == Kind.APOLOGY)
    fixes: list[tuple[PricedAction, ...]] = [()]
    fixes += [(a,) for a in actions if a.kind in (Kind.REFUND, Kind.CREDIT, Kind.REPLACEMENT)]
    by_kind: dict[Kind, list[PricedAction]] = {}
    for a in actions:
        if a.kind in (Kind.EXPEDITE, Kind.UPGRADE, Kind.GIFT, Kind.PERSONAL_CONTACT):
            by_kind.setdefault(a.kind, []).append(a)
    extras: list[tuple[PricedAction, ...]] = [()]
    for size in range(1, max_overdelivery + 1):
        for kinds in itertools.combinations(by_kind, size):  # at most one action per kind
            extras += itertools.product(*(by_kind[k] for k in kinds))
    return [
        Plan(actions=apology + fix + extra, currency=incident.currency)
        for fix in fixes
        for extra in extras
    ]

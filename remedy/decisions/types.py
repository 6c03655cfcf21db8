"""Value types that flow through the decision pipeline.

Everything here is immutable and free of I/O so that the planner, the ranker, the guardrails
and the model's feature code can share one definition of an incident and of a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class FaultType(StrEnum):
    """Who caused the failure (Grewal et al. 2008: fault changes what compensation buys)."""

    COMPANY = "company"
    PARTNER = "partner"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


class Kind(StrEnum):
    """What a catalog item does for the customer."""

    APOLOGY = "apology"
    REFUND = "refund"
    CREDIT = "credit"
    REPLACEMENT = "replacement"
    EXPEDITE = "expedite"
    UPGRADE = "upgrade"
    GIFT = "gift"
    PERSONAL_CONTACT = "personal_contact"


# A plan holds at most one fix; the rest are overdelivery actions (the apology is neither: it is
# free and goes into every plan where it is eligible).
FIX_KINDS = frozenset({Kind.REFUND, Kind.CREDIT, Kind.REPLACEMENT})
OVERDELIVERY_KINDS = frozenset({Kind.EXPEDITE, Kind.UPGRADE, Kind.GIFT, Kind.PERSONAL_CONTACT})

# Personal contact levels, ordered by seniority; the index is the level's rank.
CONTACT_LEVELS = ("agent", "manager", "executive")


def contact_rank(level: str | None) -> int:
    """Return 0 for no contact, 1 for agent, 2 for manager, 3 for executive."""
    return CONTACT_LEVELS.index(level) + 1 if level in CONTACT_LEVELS else 0


@dataclass(frozen=True, slots=True)
class Incident:
    """A failure as the agent reports it; amounts are exact and in `currency`."""

    customer_id: str
    severity: int
    fault_type: FaultType
    customer_value: Decimal
    loss_amount: Decimal
    currency: str
    category: str = "other"
    channel: str = "email"
    locale: str = "en"
    churn_threat: bool = False
    external_id: str | None = None
    team: str = "default"

    def rule_context(self) -> dict[str, object]:
        """Return the symbols rules may use (see catalog/rules schema)."""
        return {
            "severity": self.severity,
            "fault_type": str(self.fault_type),
            "customer_value": self.customer_value,
            "loss_amount": self.loss_amount,
            "currency": self.currency,
            "category": self.category,
            "channel": self.channel,
            "locale": self.locale,
            "language": self.language,
            "churn_threat": self.churn_threat,
            "team": self.team,
        }

    @property
    def language(self) -> str:
        """The language part of the locale ('fr' for 'fr-CA')."""
        return self.locale.replace("_", "-").split("-")[0].lower()


@dataclass(frozen=True, slots=True)
class Action:
    """One catalog item priced for one incident."""

    item_id: str
    kind: Kind
    level: str | None
    value: Decimal  # face value to the customer
    cost: Decimal  # what it costs the company
    requires_approval: bool = False
    audience: str = "customer"  # or "companions": a gift for the people around the customer


@dataclass(frozen=True, slots=True)
class Plan:
    """A fix (at most one) plus overdelivery actions, priced for one incident."""

    actions: tuple[Action, ...]
    currency: str
    fired_rules: tuple[str, ...] = field(default=())

    @property
    def plan_id(self) -> str:
        """A stable, readable id: the item ids joined in catalog order."""
        return "+".join(action.item_id for action in self.actions) or "nothing"

    @property
    def total_cost(self) -> Decimal:
        """What the plan costs the company."""
        return sum((a.cost for a in self.actions), Decimal(0))

    @property
    def total_value(self) -> Decimal:
        """The face value the customer receives."""
        return sum((a.value for a in self.actions), Decimal(0))

    def has_kind(self, kind: Kind) -> bool:
        """Tell whether any action is of `kind`."""
        return any(a.kind == kind for a in self.actions)

    def value_of(self, *kinds: Kind) -> Decimal:
        """Sum the face value of the actions of the given kinds."""
        return sum((a.value for a in self.actions if a.kind in kinds), Decimal(0))

    @property
    def contact_level(self) -> str | None:
        """The most senior personal contact in the plan, if any."""
        levels = [a.level for a in self.actions if a.kind == Kind.PERSONAL_CONTACT]
        return max(levels, key=contact_rank) if levels else None

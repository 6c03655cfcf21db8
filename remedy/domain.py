"""The words every layer shares: incidents, actions, kinds, faults and plans.

Everything here is immutable and free of I/O so that the planner, the ranker, the guardrails
and the model's feature code can share one definition of an incident and of a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple


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


class Part(StrEnum):
    """Which part of a plan an action is: the apology, the fix (making the customer whole for
    what they lost) or the overdelivery (everything beyond: gifts, upgrades, personal contact)."""

    APOLOGY = "apology"
    FIX = "fix"
    OVERDELIVERY = "overdelivery"


def part_of(kind: Kind) -> Part:
    """Return the part of a plan an action of `kind` belongs to."""
    if kind == Kind.APOLOGY:
        return Part.APOLOGY
    return Part.FIX if kind in FIX_KINDS else Part.OVERDELIVERY


# What an incident may say (the API's schema and the configuration trial share these bounds).
CHANNELS = ("email", "chat", "phone", "social", "review", "web", "store")
# The audience a public complaint is assumed to reach when the agent does not know it.
DEFAULT_REACH = 100
# The largest audience a public complaint may be said to reach (a guard against typos).
MAX_REACH = 10_000_000_000
# Guards against absurd input: no single incident loses more than ten million units, and no
# customer is worth more than a billion a year.
MAX_LOSS = Decimal("10000000")
MAX_CUSTOMER_VALUE = Decimal("1000000000")

# When the customer first complained (`reported_at`): a help desk's clock may run a little
# ahead of ours, so up to REPORTED_AT_SKEW in the future is taken as now; further is a typo.
# Older than REPORTED_AT_MAX_AGE is not a complaint to answer within minutes but a typo or a
# backfill (the promises report would count it as kept or broken by months).
REPORTED_AT_SKEW = timedelta(minutes=5)
REPORTED_AT_MAX_AGE = timedelta(days=90)

# Personal contact levels, ordered by seniority; the index is the level's rank. `leader` is a
# named leader's own direct line (the founder's, an executive's), given to the customer to keep.
CONTACT_LEVELS = ("agent", "manager", "executive", "leader")
# Where the customer stands: still a customer, said they will leave, or already gone.
CUSTOMER_STATUSES = ("active", "leaving", "left")
# Channels where a complaint is seen by others: an incident there is public.
PUBLIC_CHANNELS = frozenset({"social", "review"})


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
    public: bool = False  # seen by others (a post, a review); social and review channels imply it
    reach: int | None = None  # followers or audience of a public complaint, when known
    prior_incidents: int = 0  # the customer's earlier incidents with a plan given (counted by us)
    # active (default), leaving (said they will leave: a churn threat) or left (already gone).
    customer_status: str = "active"
    # When nothing was lost, what gestures (gifts priced on the loss) and the cap's loss term are
    # sized on: the caps' `no_loss_basis` per severity point (set by the engine; None: not sized).
    gesture_basis: Decimal | None = None
    # When the customer first complained, in UTC: the promises (answer within, fix within)
    # count from it. None until the service sets it (to the decision's time when not said).
    reported_at: datetime | None = None
    # Where the failure happened (a touchpoint of the catalog's closed vocabulary: the sign-in
    # page, the billing run, the courier); None when the agent does not say. The honesty audit
    # (GET /v1/reports/audit) ranks touchpoints by what their failures cost.
    touchpoint: str | None = None

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
            "churn_threat": self.churn_threat or self.customer_status == "leaving",
            "team": self.team,
            "public": self.is_public,
            "reach": self.reach or 0,
            "prior_incidents": self.prior_incidents,
            "customer_status": self.customer_status,
            "no_loss": self.loss_amount == 0,
        }

    @property
    def sizing_loss(self) -> Decimal:
        """What gestures and the cap are sized on: the loss, or the no-loss basis when nothing
        was lost (a rude call or a broken promise costs the customer no money)."""
        if self.loss_amount > 0 or self.gesture_basis is None:
            return self.loss_amount
        return self.gesture_basis

    @property
    def threatens_to_leave(self) -> bool:
        """Whether the customer says they will leave or already left."""
        return self.churn_threat or self.customer_status != "active"

    @property
    def is_public(self) -> bool:
        """Whether others see the complaint (said so, or the channel is public)."""
        return self.public or self.channel in PUBLIC_CHANNELS

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


class PlanShape(NamedTuple):
    """What a plan is made of, independent of prices: computed once per item combination."""

    plan_id: str  # a stable, readable id: the item ids joined in catalog order
    kinds: frozenset[Kind]
    contact_level: str | None
    # Set by the planner: the requirements the plan was built for, and for each one the
    # positions of the actions that meet it, so the guardrails need not match them again.
    requirement_matches: tuple[tuple[Any, ...], tuple[tuple[int, ...], ...]] | None = None

    @classmethod
    def of(cls, actions: tuple[Action, ...] | tuple[Any, ...]) -> PlanShape:
        """Describe a combination of actions (anything with item_id, kind and level)."""
        levels = [a.level for a in actions if a.kind == Kind.PERSONAL_CONTACT]
        return cls(
            "+".join(a.item_id for a in actions) or "nothing",
            frozenset(a.kind for a in actions),
            max(levels, key=contact_rank) if levels else None,
        )


class Plan:
    """A fix (at most one) plus overdelivery actions, priced for one incident.

    Totals, kinds and the plan id are computed once at construction: a decision builds and
    ranks hundreds of plans, and these are read many times each.
    """

    __slots__ = (
        "actions",
        "currency",
        "fired_rules",
        "plan_id",
        "total_cost",
        "total_value",
        "fix_cost",
        "kinds",
        "contact_level",
        "requirement_matches",
    )

    def __init__(
        self,
        actions: tuple[Action, ...],
        currency: str,
        fired_rules: tuple[str, ...] = (),
        shape: PlanShape | None = None,
    ) -> None:
        """Keep the actions and precompute what ranking reads (`shape` if the planner has it)."""
        self.actions = actions
        self.currency = currency
        self.fired_rules = fired_rules
        shape = shape or PlanShape.of(actions)
        self.plan_id, self.kinds, self.contact_level, self.requirement_matches = shape
        self.total_cost = sum((a.cost for a in actions), Decimal(0))
        self.total_value = sum((a.value for a in actions), Decimal(0))
        # The fix makes the customer whole: the incident cap never limits it (only the pool,
        # the customer window and finance's fix ceiling can).
        self.fix_cost = sum((a.cost for a in actions if a.kind in FIX_KINDS), Decimal(0))

    def __repr__(self) -> str:
        """Show the plan id and cost."""
        return f"Plan({self.plan_id!r}, cost={self.total_cost} {self.currency})"

    def __eq__(self, other: object) -> bool:
        """Plans are equal when their actions and currency are."""
        return isinstance(other, Plan) and (self.actions, self.currency) == (
            other.actions,
            other.currency,
        )

    def __hash__(self) -> int:
        """Hash like the actions."""
        return hash((self.actions, self.currency))

    @property
    def fix(self) -> Action | None:
        """The plan's fix, if it has one."""
        return next((a for a in self.actions if a.kind in FIX_KINDS), None)

    def value_of(self, *kinds: Kind) -> Decimal:
        """Sum the face value of the actions of the given kinds."""
        return sum((a.value for a in self.actions if a.kind in kinds), Decimal(0))

"""Approval tiers: who must approve a plan, by its whole cost (fix included), per currency.

The caps document's `approvals` section:

    approvals:
      agent_up_to: {EUR: "1000.00"}   # up to this the agent decides alone
      lead_up_to: {EUR: "5000.00"}    # up to this a lead of the plan's team approves
      escalate_after: PT15M           # a plan waiting longer goes to the next tier
    # above lead_up_to (or above agent_up_to when a currency has no lead tier): finance

A document written before tiers has one `approval_threshold` instead: it reads as a one-tier
document (`agent_up_to` = the threshold, no lead tier: finance approves everything above), so
caps versions already stored keep loading and deciding as they did.

A make-whole fix needs nobody's approval up to `fix_without_approval` (per currency; a currency
not named there takes its `lead_up_to`, or its `agent_up_to` when it has no lead tier: a fix a
lead would approve anyway need not wait for one while the fix-within-the-hour clock runs).
What counts precisely: the plan's make-whole part is its fix's cost up to the incident's loss
(`make_whole_cost`: a fix costing more than the loss is overdelivery beyond it, and a fix for
no loss makes nothing whole). When that part is at most the limit, the tiers judge the plan's
cost beyond it; when it is above the limit, the whole cost, as before. Items that always need
approval still do.

Finance (and admin) may decide a plan of any tier; a lead decides its team's plans of the lead
tier, before and after they are escalated. Escalation is never expiry: an overdue plan is added
to finance's queue (`next_tier`) and stays in the lead's, until someone decides it (the first
to answer wins) or the agent cancels it. The queue, the escalation and who may decide are
remedy/services/approvals.py; this module is the pure rule they and the engine share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from catalog.validation import AmountsByCurrency
from remedy.decisions.durations import Duration, duration_seconds
from remedy.facts import Fact, Item, Many, Money, fact

DEFAULT_ESCALATE_AFTER = "PT15M"


class Approver(StrEnum):
    """Who decides a plan: the tiers, lowest first."""

    AGENT = "agent"  # no approval: the agent decides
    LEAD = "lead"
    FINANCE = "finance"


class ApprovalsSchema(Schema):
    """The `approvals` section of a caps document."""

    agent_up_to = AmountsByCurrency(required=True)
    lead_up_to = AmountsByCurrency(load_default=dict)
    escalate_after = Duration(load_default=DEFAULT_ESCALATE_AFTER)
    # Per currency, the most a make-whole fix may cost without approval (absent: the default
    # above; documents written before it load with the default).
    fix_without_approval = AmountsByCurrency(load_default=dict)

    @validates_schema
    def check_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Each lead amount must be above the agent's in the same currency, which it must have."""
        agent, lead = data.get("agent_up_to", {}), data.get("lead_up_to", {})
        errors: dict[str, list[str]] = {}
        for currency, amount in lead.items():
            if currency not in agent:
                errors[currency] = [f"agent_up_to has no {currency}: set both tiers"]
            elif amount <= agent[currency]:
                errors[currency] = [
                    f"{amount} must be above agent_up_to's {agent[currency]} {currency}"
                ]
        if errors:
            raise ValidationError({"lead_up_to": errors})


def read_approvals(data: dict[str, Any]) -> dict[str, Any]:
    """Return a validated caps document's approvals, reading an old `approval_threshold` as one
    tier; raise ValidationError when neither or both are given."""
    threshold = data.get("approval_threshold")
    approvals = data.get("approvals")
    if threshold is not None and approvals is not None:
        message = "give approvals (tiers) or the older approval_threshold, not both"
        raise ValidationError({"approvals": [message]})
    if approvals is not None:
        return approvals
    if threshold is None:
        raise ValidationError({"approvals": ["Missing data for required field."]})
    return {
        "agent_up_to": threshold,
        "lead_up_to": {},
        "escalate_after": DEFAULT_ESCALATE_AFTER,
        "fix_without_approval": {},
    }


def make_whole_cost(fix_cost: Decimal, loss: Decimal) -> Decimal:
    """The part of a plan's fix that makes the customer whole: its cost up to the loss."""
    return max(Decimal(0), min(fix_cost, loss))


@dataclass(frozen=True)
class ApprovalTiers:
    """The tiers of one caps version."""

    agent_up_to: dict[str, Decimal] = field(default_factory=dict)
    lead_up_to: dict[str, Decimal] = field(default_factory=dict)
    escalate_after: str = DEFAULT_ESCALATE_AFTER
    fix_without_approval: dict[str, Decimal] = field(default_factory=dict)  # as finance set it

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ApprovalTiers:
        """Build from a validated `approvals` section."""
        return cls(
            dict(section["agent_up_to"]),
            dict(section.get("lead_up_to") or {}),
            section.get("escalate_after") or DEFAULT_ESCALATE_AFTER,
            dict(section.get("fix_without_approval") or {}),
        )

    def fix_limit(self, currency: str) -> Decimal:
        """The most a make-whole fix may cost in `currency` without approval: finance's
        `fix_without_approval`, else the lead tier's limit, else the agent's."""
        limit = self.fix_without_approval.get(currency)
        if limit is not None:
            return limit
        lead = self.lead_up_to.get(currency)
        return lead if lead is not None else self.agent_up_to[currency]

    def counted(self, cost: Decimal, currency: str, fix: Decimal = Decimal(0)) -> Decimal:
        """What the tiers judge of a plan costing `cost` whose make-whole part is `fix`: the
        cost beyond the fix when the fix is within `fix_limit`, else the whole cost."""
        if Decimal(0) < fix <= self.fix_limit(currency):
            return cost - fix
        return cost

    @property
    def escalate_after_seconds(self) -> int:
        """How long a plan waits for a lead before it goes to finance."""
        return duration_seconds(self.escalate_after)

    def threshold(self, currency: str) -> Decimal:
        """The most a plan may cost without anyone's approval."""
        return self.agent_up_to[currency]

    def lead_limit(self, currency: str) -> Decimal | None:
        """The most a lead may approve in `currency` (None: no lead tier there)."""
        return self.lead_up_to.get(currency)

    def approver_for(
        self, cost: Decimal, currency: str, always: bool = False, fix: Decimal = Decimal(0)
    ) -> Approver:
        """Who must approve a plan costing `cost`; `always`: it holds an item that always needs
        approval (then at least a lead, when the currency has a lead tier); `fix`: its
        make-whole part (`make_whole_cost`), which needs no approval up to `fix_limit`."""
        cost = self.counted(cost, currency, fix)
        if cost <= self.agent_up_to[currency] and not always:
            return Approver.AGENT
        lead = self.lead_up_to.get(currency)
        if lead is not None and cost <= lead:
            return Approver.LEAD
        return Approver.FINANCE

    def needs_approval(self, cost: Decimal, currency: str, always: bool = False) -> bool:
        """Tell whether a plan costing `cost` needs anyone's approval (`always`: it holds an
        item that always does): the one rule the engine and the what-if replay share."""
        return always or cost > self.agent_up_to[currency]

    def next_tier(self, approver: Approver) -> Approver:
        """Where an overdue request escalates to (finance is the top: it stays there)."""
        return Approver.FINANCE if approver == Approver.LEAD else approver

    def escalates(self, tier: Approver) -> bool:
        """Tell whether a request waiting at `tier` goes up a tier once overdue."""
        return self.next_tier(tier) != tier

    def escalating_to(self, tier: Approver) -> tuple[Approver, ...]:
        """The tiers whose overdue requests `tier` also decides."""
        return tuple(t for t in Approver if t != tier and self.next_tier(t) == tier)

    def deciders(self, requested: Approver, escalated: bool) -> tuple[Approver, ...]:
        """The tiers that may decide a request made to `requested`, lowest first.

        Escalation adds the next tier and takes nothing from the lower one: a lead keeps the
        right to answer its overdue request, and the first to answer wins (issue 21). Finance
        (and admin) may decide any request anyway; this names whose queue it is in.
        """
        if escalated and self.escalates(requested):
            return (requested, self.next_tier(requested))
        return (requested,)


def approval_reasons(
    tiers: ApprovalTiers,
    cost: Decimal,
    currency: str,
    always: list[str],
    fix: Decimal = Decimal(0),
) -> tuple[Approver, list[Fact]]:
    """Who must approve a plan costing `cost` and why, as facts (`always`: ids of its items
    that always need approval; `fix`: its make-whole part, see `make_whole_cost`)."""
    approver = tiers.approver_for(cost, currency, bool(always), fix)
    reasons: list[Fact] = []

    def money(amount: Decimal) -> Money:
        return Money(amount, currency)

    threshold = tiers.threshold(currency)
    lead = tiers.lead_limit(currency)
    counted = tiers.counted(cost, currency, fix)
    if counted != cost and cost > threshold:  # the fix made a difference: say so
        reasons.append(
            fact(
                "fix_without_approval",
                fix=money(fix),
                limit=money(tiers.fix_limit(currency)),
                beyond=money(counted),
            )
        )
    cost = counted
    if approver == Approver.LEAD and cost > threshold:
        reasons.append(fact("needs_lead", cost=money(cost), threshold=money(threshold)))
    elif approver == Approver.FINANCE and lead is not None and cost > lead:
        reasons.append(fact("needs_finance", cost=money(cost), limit=money(lead)))
    elif approver == Approver.FINANCE and cost > threshold:
        reasons.append(fact("needs_approval", cost=money(cost), threshold=money(threshold)))
    if always:
        reasons.append(fact("needs_approval_always", items=Many(tuple(Item(i) for i in always))))
    return approver, reasons

"""Where an approval request stands, as values and facts: `Standing` (its tier, escalation and
waiting time, computed on read), `QueueEntry` (a card of the approval queue, with why it
needs approval) and `standing_fact` (said in the reader's language at the edge).

remedy/services/approvals.py computes them; a GET never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from remedy.decisions.approvals import Approver
from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import DecisionRecord
from remedy.facts import Fact, Money, Seconds, fact
from remedy.money import from_minor
from remedy.store.tables import ApprovalRequest, Decision

PENDING = "pending"  # a request waiting for its answer
# The reasons beside a plan that say why it needs approval (remedy/decisions/approvals.py).
APPROVAL_REASONS = frozenset(
    {
        "needs_lead",
        "needs_finance",
        "needs_approval",
        "needs_approval_always",
        "fix_without_approval",
    }
)


@dataclass(frozen=True)
class Standing:
    """Where a request stands at one moment, escalation due included (computed, not written).

    `tier` is the highest tier that decides it now; `escalated` is true once it is overdue,
    recorded or not (`escalation_due`: overdue, not yet recorded by `escalate_due`), so a
    reader sees the same whether or not the escalation has run yet.
    """

    tier: str
    escalated: bool
    escalated_at: datetime | None
    escalation_due: bool
    waiting_seconds: int | None  # None once decided


@dataclass(frozen=True)
class QueueEntry:
    """A pending request as an approver sees it, with its decision and where it stands."""

    request: ApprovalRequest
    decision: Decision
    standing: Standing

    @property
    def currency(self) -> str:
        """The currency of the amount waiting."""
        return self.request.currency

    @property
    def tier(self) -> str:
        """Who decides it now (the highest tier)."""
        return self.standing.tier

    @property
    def escalated(self) -> bool:
        """It waited too long: the next tier was added (recorded or due)."""
        return self.standing.escalated

    @property
    def escalated_at(self) -> datetime | None:
        """When it was (or became due to be) escalated."""
        return self.standing.escalated_at

    @property
    def escalation_due(self) -> bool:
        """Overdue but not yet recorded (the worker or `remedy approvals escalate` will)."""
        return self.standing.escalation_due

    @property
    def waiting_seconds(self) -> int:
        """How long it has waited."""
        return self.standing.waiting_seconds or 0

    @property
    def why(self) -> list[Fact]:
        """Why it needs approval, as facts: the accepted plan's approval reasons (its cost over
        a tier's limit, an item that always needs approval, the fix's part that needed none), or,
        for an overage, its actual cost above the reservation."""
        request = self.request
        if request.kind == "overage":
            amount = from_minor(request.amount_minor, request.currency)
            return [fact("needs_approval_overage", actual=Money(amount, request.currency))]
        record = DecisionRecord.of(self.decision)
        shown = record.presentation.get(self.decision.accepted_plan_id or "")
        reasons = shown.reasons if shown is not None else []
        return [reason for reason in reasons if reason.code in APPROVAL_REASONS]


def standing_fact(request: ApprovalRequest, standing: Standing, after: str) -> Fact:
    """Where a request stands, as a fact (said in the reader's language at the edge)."""
    if request.state == PENDING:
        seconds = standing.waiting_seconds or 0
        waited = Seconds(max(60, seconds // 60 * 60))  # whole minutes
        if standing.escalated:
            return fact("approval_escalated", after=Seconds(duration_seconds(after)), waited=waited)
        if request.tier == Approver.LEAD:
            return fact("approval_waiting_lead", waited=waited)
        return fact("approval_waiting_finance", waited=waited)
    who = fact(_DECIDED_BY.get(request.decided_role or "", "approver_operator"))
    if request.state == "approved":
        if request.reason:
            return fact("approval_approved_because", who=who, reason=request.reason)
        return fact("approval_approved", who=who)
    if request.state == "rejected":
        return fact("approval_rejected", who=who, reason=request.reason or "")
    if request.state == "expired":
        return fact("approval_expired")
    return fact("approval_cancelled")


# Who decided a request, by the role that decided it.
_DECIDED_BY = {
    Approver.LEAD.value: "approver_lead",
    Approver.FINANCE.value: "approver_finance",
    "admin": "approver_admin",
}

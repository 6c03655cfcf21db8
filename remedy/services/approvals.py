"""The approvers' side of approval tiers: requests, queues, escalation, and who may decide.

A plan (or an overage) that needs approval gets one `ApprovalRequest` row with the tier that
decides it: `lead` (a lead key of the plan's team) or `finance` (finance keys, which may also
decide any lead request; admin keys only in the tiers configured for them). A request waiting
longer than the caps' `escalate_after` is escalated to the next tier — lazily, by the next queue
read, decision read or approval step, or by `remedy approvals escalate` — and never expires
while the customer waits; it ends only when someone approves or rejects it, the agent cancels,
or (an overage) its reservation runs out.

Four eyes (`FourEyes`): in the tiers it names, nobody approves a plan they took part in — the
key that asked for the recommendation, accepted the plan, or asked for the approval (an
overage's fulfiller) — and an admin key decides only in the tiers configured for it (none by
default: administering keys is not approving money). Both are checked where a decision is
approved or rejected, here, so every caller (the API, the CLI, a consolidated home later)
gets them.

The money moves elsewhere (lifecycle.py); this module decides who may decide, and records it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import ApprovalTiers, Approver
from remedy.decisions.durations import duration_seconds
from remedy.errors import Forbidden, InvalidInput
from remedy.i18n import Messages
from remedy.ledger.periods import as_utc
from remedy.services.keys import Principal
from remedy.store import audit
from remedy.store.tables import ApprovalRequest, AuditEntry, Decision, utcnow

PENDING = "pending"
# Queue scopes: what the caller's tier decides now, or everything it may decide.
SCOPES = ("mine", "all")
ESCALATION_ACTOR = "escalation"


TIERS = (Approver.LEAD.value, Approver.FINANCE.value)


@dataclass(frozen=True)
class FourEyes:
    """Separation of duties per approval tier (REMEDY_FOUR_EYES_TIERS,
    REMEDY_ADMIN_APPROVAL_TIERS).

    `tiers`: where no party to a decision (who asked for it, accepted its plan or asked for the
    approval) may approve it. `admin_tiers`: where an admin key may approve or reject; an admin
    is otherwise in no tier, since a key that mints keys and changes rules should not also
    release money on its own.
    """

    tiers: frozenset[str] = field(default_factory=lambda: frozenset(TIERS))
    admin_tiers: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_names(cls, tiers: Iterable[str], admin_tiers: Iterable[str]) -> FourEyes:
        """Build from tier names (blank ones ignored); refuse an unknown tier."""
        chosen = [
            frozenset(t.strip() for t in names if t.strip()) for names in (tiers, admin_tiers)
        ]
        for names in chosen:
            unknown = names - set(TIERS)
            if unknown:
                raise ValueError(f"unknown approval tier(s) {sorted(unknown)}: use {TIERS}")
        return cls(chosen[0], chosen[1])


@dataclass(frozen=True)
class QueueEntry:
    """A pending request as an approver sees it, with its decision and how long it waits."""

    request: ApprovalRequest
    decision: Decision
    waiting_seconds: int

    @property
    def currency(self) -> str:
        """The currency of the amount waiting."""
        return self.request.currency

    @property
    def escalated(self) -> bool:
        """The request moved up a tier because it waited too long."""
        return self.request.escalated_at is not None


class ApprovalService:
    """Records approval requests and their outcome; reads the queues; escalates."""

    def __init__(
        self,
        session: Session,
        tiers: ApprovalTiers,
        clock: Callable[[], datetime] = utcnow,
        four_eyes: FourEyes | None = None,
    ) -> None:
        """Work in `session` under the active caps' `tiers` and the `four_eyes` controls."""
        self.session = session
        self.tiers = tiers
        self.clock = clock
        self.four_eyes = four_eyes or FourEyes()

    # -- requests ------------------------------------------------------------------------------

    def request(
        self, decision: Decision, kind: str, amount_minor: int, approver: Approver, actor: str
    ) -> ApprovalRequest:
        """Put a plan or an overage in the queue of `approver` (lead or finance)."""
        now = self.clock()
        row = ApprovalRequest(
            decision_id=decision.id,
            kind=kind,
            team=decision.team,
            currency=decision.currency,
            amount_minor=amount_minor,
            tier=approver.value,
            requested_tier=approver.value,
            requested_at=now,
            requested_by=actor,
            state=PENDING,
        )
        self.session.add(row)
        return row

    def pending_for(self, decision_id: str, lock: bool = False) -> ApprovalRequest | None:
        """The decision's open request, if any (a decision has at most one at a time).

        `lock`: hold its row until the commit (PostgreSQL), before the ledger's locks, so a
        concurrent escalation waits for the decision instead of deadlocking with it."""
        statement = sa.select(ApprovalRequest).where(
            ApprovalRequest.decision_id == decision_id, ApprovalRequest.state == PENDING
        )
        return self.session.scalar(statement.with_for_update() if lock else statement)

    def latest_for(self, decision_id: str) -> ApprovalRequest | None:
        """The decision's most recent request, open or decided."""
        return self.session.scalar(
            sa.select(ApprovalRequest)
            .where(ApprovalRequest.decision_id == decision_id)
            .order_by(ApprovalRequest.requested_at.desc(), ApprovalRequest.id.desc())
            .limit(1)
        )

    def check_may_decide(
        self,
        principal: Principal | None,
        request: ApprovalRequest | None,
        decision: Decision | None = None,
        approving: bool = False,
    ) -> None:
        """Refuse (403) an approver whose role or tier may not decide this request, and (when
        `approving` `decision`) one who took part in it where four eyes hold.

        `principal` None is the operator's own tooling (simulations): finance's powers. A
        decision pending from before tiers has no request: finance decides it.
        """
        if principal is None:
            return
        tier = request.tier if request is not None else Approver.FINANCE.value
        if principal.role == "admin" and tier not in self.four_eyes.admin_tiers:
            why = f"an admin key is not in the {tier} tier: a {tier} key decides it"
            raise Forbidden(f"an admin may not decide this plan: {why}", {"tier": [why]})
        four_eyes = approving and decision is not None and tier in self.four_eyes.tiers
        if four_eyes and principal.prefix in self.parties(decision):  # type: ignore[arg-type]
            why = (
                "this key asked for the decision, accepted its plan or asked for this "
                f"approval: another {tier} key approves it (four eyes)"
            )
            raise Forbidden(f"you may not approve this plan: {why}", {"approver": [why]})
        if principal.has_role("finance"):
            return
        if principal.role != Approver.LEAD:
            raise Forbidden(f"role {principal.role!r} may not approve or reject plans")
        if request is None:
            raise Forbidden("a lead may not decide this plan: finance decides it")
        principal.hide_unless_sees(request.team, f"decision {request.decision_id!r}")
        if request.tier != Approver.LEAD:
            why = (
                "it waited too long and was escalated to finance"
                if request.escalated_at is not None
                else "it is above a lead's approval tier: finance decides it"
            )
            raise Forbidden(f"a lead may not decide this plan: {why}", {"tier": [why]})

    def parties(self, decision: Decision) -> set[str]:
        """The keys (prefixes) that took part in `decision`: who asked for it, who accepted a
        plan (the audited step out of `proposed`) and who asked for any of its approvals."""
        keys = {decision.requested_by}
        keys.update(
            self.session.scalars(
                sa.select(ApprovalRequest.requested_by).where(
                    ApprovalRequest.decision_id == decision.id
                )
            )
        )
        transitions = self.session.execute(
            sa.select(AuditEntry.actor, AuditEntry.before).where(
                AuditEntry.entity == "decision",
                AuditEntry.entity_id == decision.id,
                AuditEntry.action == "transition",
            )
        )
        keys.update(
            actor for actor, before in transitions if (before or {}).get("status") == "proposed"
        )
        return keys

    def close(
        self,
        request: ApprovalRequest | None,
        state: str,
        actor: str,
        role: str | None = None,
        reason: str = "",
    ) -> None:
        """Record the end of a request: approved, rejected, cancelled or expired."""
        if request is None:
            return
        request.state = state
        request.decided_at = self.clock()
        request.decided_by = actor
        request.decided_role = role
        request.reason = reason or None

    # -- escalation ----------------------------------------------------------------------------

    def escalate_due(self, actor: str = ESCALATION_ACTOR) -> int:
        """Move every lead request waiting past `escalate_after` to finance; return how many.

        Each row changes only if it is still a pending lead request when written, so two
        readers escalating at once escalate (and audit) it once.
        """
        now = self.clock()
        due = now - timedelta(seconds=self.tiers.escalate_after_seconds)
        ids = self.session.scalars(
            sa.select(ApprovalRequest.id)
            .where(
                ApprovalRequest.state == PENDING,
                ApprovalRequest.tier == Approver.LEAD.value,
                ApprovalRequest.requested_at <= due,
            )
            .order_by(ApprovalRequest.id)  # every writer locks request rows in one order
        ).all()
        escalated = 0
        for request_id in ids:
            result = self.session.execute(
                sa.update(ApprovalRequest)
                .where(
                    ApprovalRequest.id == request_id,
                    ApprovalRequest.state == PENDING,
                    ApprovalRequest.tier == Approver.LEAD.value,
                )
                .values(tier=Approver.FINANCE.value, escalated_at=now)
                .execution_options(synchronize_session="fetch")
            )
            if result.rowcount == 1:
                escalated += 1
                audit.record(
                    self.session,
                    actor,
                    "escalate",
                    "approval_request",
                    request_id,
                    {"tier": Approver.LEAD.value},
                    {"tier": Approver.FINANCE.value, "after": self.tiers.escalate_after},
                )
        return escalated

    # -- queues --------------------------------------------------------------------------------

    def queue(
        self, principal: Principal, scope: str = "mine", limit: int | None = None
    ) -> list[QueueEntry]:
        """The pending requests `principal` may decide, oldest first (the `limit` oldest).

        A lead sees its team's lead-tier requests. Finance and admin see the finance tier
        (escalated requests included) or, with scope `all`, every tier; a team-scoped key sees
        its team only.
        """
        if scope not in SCOPES:
            raise InvalidInput(f"unknown scope {scope!r}", {"scope": [f"must be one of {SCOPES}"]})
        statement = (
            sa.select(ApprovalRequest, Decision)
            .join(Decision, Decision.id == ApprovalRequest.decision_id)
            .where(ApprovalRequest.state == PENDING)
            .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
        )
        if principal.role == Approver.LEAD:
            statement = statement.where(ApprovalRequest.tier == Approver.LEAD.value)
        elif not principal.has_role("finance"):
            raise Forbidden(f"role {principal.role!r} has no approval queue")
        elif scope == "mine":
            statement = statement.where(ApprovalRequest.tier == Approver.FINANCE.value)
        if principal.team is not None:
            statement = statement.where(ApprovalRequest.team == principal.team)
        if limit is not None:
            statement = statement.limit(limit)
        now = self.clock()
        return [
            QueueEntry(request, decision, int((now - as_utc(request.requested_at)).total_seconds()))
            for request, decision in self.session.execute(statement)
        ]

    def waiting_seconds(self, request: ApprovalRequest) -> int | None:
        """How long a pending request has waited (None once decided)."""
        if request.state != PENDING:
            return None
        return int((self.clock() - as_utc(request.requested_at)).total_seconds())


def end_pending(session: Session, decision_id: str, state: str, actor: str, now: datetime) -> None:
    """End a decision's open request, if any, without a decider's role (expiry)."""
    session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.decision_id == decision_id, ApprovalRequest.state == PENDING)
        .values(state=state, decided_at=now, decided_by=actor)
        .execution_options(synchronize_session="fetch")
    )


def describe(request: ApprovalRequest, m: Messages, now: datetime, after: str) -> str:
    """Where a request stands, in the agent's (the decision's) language."""
    if request.state == PENDING:
        seconds = int((now - as_utc(request.requested_at)).total_seconds())
        waited = m.duration(max(60, seconds // 60 * 60))  # whole minutes
        if request.escalated_at is not None:
            return m(
                "escalated to finance: no team lead answered within {after}; waiting {waited}",
                after=m.duration(duration_seconds(after)),
                waited=waited,
            )
        if request.tier == Approver.LEAD:
            return m("waiting for a team lead's approval ({waited} so far)", waited=waited)
        return m("waiting for finance's approval ({waited} so far)", waited=waited)
    who = {
        Approver.LEAD.value: m("a team lead"),
        Approver.FINANCE.value: m("finance"),
        "admin": m("an admin"),
    }.get(request.decided_role or "", m("the operator"))
    if request.state == "approved":
        if request.reason:
            return m("approved by {who}: {reason}", who=who, reason=request.reason)
        return m("approved by {who}", who=who)
    if request.state == "rejected":
        return m("rejected by {who}: {reason}", who=who, reason=request.reason or "")
    if request.state == "expired":
        return m("the request ended: the reservation expired before anyone decided")
    return m("the request was cancelled")

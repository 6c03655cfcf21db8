"""Approvals, one home: requests, queues, escalation, where a request stands, who may decide.

A plan (or an overage) that needs approval gets one `ApprovalRequest` row with the tier asked
(`requested_tier`): `lead` (a lead key of the plan's team) or `finance` (finance and admin keys,
which may also decide any lead request). A request waiting longer than the caps'
`escalate_after` is escalated: the next tier (`ApprovalTiers.next_tier`) is added, the lower one
keeps it too, and the first to answer wins. It never expires while the customer waits; it ends
only when someone approves or rejects it, the agent cancels, or (an overage) its reservation
runs out.

Four eyes (`FourEyes`): in the tiers it names, nobody approves a plan they took part in — the
key that asked for the recommendation, accepted the plan, or asked for the approval (an
overage's fulfiller) — and an admin key decides only in the tiers configured for it (none by
default: administering keys is not approving money). Both are checked where a decision is
approved or rejected, here, so every caller (the API, the CLI, a consolidated home later)
gets them.

Reads never write. What is due for escalation is computed when read (`Standing`: the queue and
the decision show it escalated, `escalation_due` until it is recorded); it is written, and
audited, only by `escalate_due`: `remedy approvals escalate` and the job worker's periodic task
(`register_jobs`). So a lead reading its queue changes nothing, least of all other teams'.

The money moves elsewhere (lifecycle.py); the rule of who must approve is the caps' tiers
(remedy/decisions/approvals.py), which the engine and the what-if share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import ApprovalTiers, Approver
from remedy.errors import Forbidden, InvalidInput
from remedy.moments import as_utc
from remedy.money import from_minor
from remedy.services.approval_standing import (
    PENDING,
    QueueEntry,
    Standing,
)
from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.keys import Principal
from remedy.services.notifications import APPROVAL_ESCALATED, APPROVAL_REQUESTED, emit
from remedy.store import audit
from remedy.store.scoping import in_team
from remedy.store.tables import ApprovalRequest, AuditEntry, Decision, utcnow

# Queue scopes: what the caller's tier decides now, or everything it may decide.
SCOPES = ("mine", "all")
ESCALATION_ACTOR = "escalation"
# How often each worker records overdue escalations: well under escalate_after (PT15M by
# default), so the audit trail lags the computed view by a minute at most.
ESCALATION_EVERY = timedelta(minutes=1)


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
        emit(
            self.session,
            APPROVAL_REQUESTED,
            decision.team,
            {
                "decision_id": decision.id,
                "kind": kind,
                "tier": approver.value,
                "amount": str(from_minor(amount_minor, decision.currency)),
                "currency": decision.currency,
                "customer_id": decision.customer_id,
                "requested_by": actor,
            },
            now,
        )
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
        deciders = self.tiers.deciders(Approver(request.requested_tier), escalated=True)
        if Approver.LEAD not in deciders:
            why = "it is above a lead's approval tier: finance decides it"
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

    def standing(self, request: ApprovalRequest) -> Standing:
        """Where `request` stands now, its escalation computed (never written) when due."""
        if request.state != PENDING:
            escalated_at = as_utc(request.escalated_at) if request.escalated_at else None
            return Standing(request.tier, escalated_at is not None, escalated_at, False, None)
        requested_at = as_utc(request.requested_at)
        waited = int((self.clock() - requested_at).total_seconds())
        if request.escalated_at is not None:
            return Standing(request.tier, True, as_utc(request.escalated_at), False, waited)
        tier = Approver(request.tier)
        after = self.tiers.escalate_after_seconds
        if self.tiers.escalates(tier) and waited >= after:
            due_at = requested_at + timedelta(seconds=after)
            return Standing(self.tiers.next_tier(tier).value, True, due_at, True, waited)
        return Standing(request.tier, False, None, False, waited)

    def _due_before(self) -> datetime:
        """Requests made at or before this moment are overdue."""
        return self.clock() - timedelta(seconds=self.tiers.escalate_after_seconds)

    def escalate_due(self, actor: str = ESCALATION_ACTOR) -> int:
        """Record every overdue escalation (each tier to its next); return how many.

        The only writer of escalations: `remedy approvals escalate` and the worker's periodic
        task call it, never a read. Each row changes only if it is still pending at its tier
        when written, so two escalators at once escalate (and audit) it once.
        """
        now = self.clock()
        due = self._due_before()
        escalating = [tier for tier in Approver if self.tiers.escalates(tier)]
        rows = self.session.execute(
            sa.select(
                ApprovalRequest.id,
                ApprovalRequest.tier,
                ApprovalRequest.team,
                ApprovalRequest.decision_id,
                ApprovalRequest.amount_minor,
                ApprovalRequest.currency,
            )
            .where(
                ApprovalRequest.state == PENDING,
                ApprovalRequest.escalated_at.is_(None),
                ApprovalRequest.tier.in_([tier.value for tier in escalating]),
                ApprovalRequest.requested_at <= due,
            )
            .order_by(ApprovalRequest.id)  # every writer locks request rows in one order
        ).all()
        escalated = 0
        for request_id, tier, team, decision_id, amount_minor, currency in rows:
            next_tier = self.tiers.next_tier(Approver(tier)).value
            result = self.session.execute(
                sa.update(ApprovalRequest)
                .where(
                    ApprovalRequest.id == request_id,
                    ApprovalRequest.state == PENDING,
                    ApprovalRequest.tier == tier,
                )
                .values(tier=next_tier, escalated_at=now)
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
                    {"tier": tier},
                    {"tier": next_tier, "after": self.tiers.escalate_after, "kept": tier},
                )
                emit(
                    self.session,
                    APPROVAL_ESCALATED,
                    team,
                    {
                        "decision_id": decision_id,
                        "from_tier": tier,
                        "tier": next_tier,
                        "after": self.tiers.escalate_after,
                        "amount": str(from_minor(amount_minor, currency)),
                        "currency": currency,
                    },
                    now,
                )
        return escalated

    # -- queues --------------------------------------------------------------------------------

    def queue(
        self, principal: Principal, scope: str = "mine", limit: int | None = None
    ) -> list[QueueEntry]:
        """The pending requests `principal` may decide, oldest first (the `limit` oldest).

        A lead sees its team's lead-tier requests, escalated ones too (flagged: it may still
        answer them). Finance and admin see the finance tier, overdue requests of lower tiers
        included whether or not their escalation is recorded yet, or, with scope `all`, every
        tier. A team-scoped key sees its team only. Nothing is written.
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
            statement = statement.where(ApprovalRequest.requested_tier == Approver.LEAD.value)
        elif not principal.has_role("finance"):
            raise Forbidden(f"role {principal.role!r} has no approval queue")
        elif scope == "mine":
            lower = [tier.value for tier in self.tiers.escalating_to(Approver.FINANCE)]
            statement = statement.where(
                sa.or_(
                    ApprovalRequest.tier == Approver.FINANCE.value,
                    sa.and_(
                        ApprovalRequest.tier.in_(lower),
                        ApprovalRequest.requested_at <= self._due_before(),
                    ),
                )
            )
        statement = statement.where(in_team(principal.team, ApprovalRequest.team))
        if limit is not None:
            statement = statement.limit(limit)
        return [
            QueueEntry(request, decision, self.standing(request))
            for request, decision in self.session.execute(statement)
        ]


def end_pending(session: Session, decision_id: str, state: str, actor: str, now: datetime) -> None:
    """End a decision's open request, if any, without a decider's role (expiry)."""
    session.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.decision_id == decision_id, ApprovalRequest.state == PENDING)
        .values(state=state, decided_at=now, decided_by=actor)
        .execution_options(synchronize_session="fetch")
    )


def escalate_overdue(context: TaskContext) -> str:
    """The worker's periodic task: record every overdue escalation under the active caps."""
    if context.services is None:
        raise RuntimeError("escalation needs the app's services (the active caps)")
    tiers = context.services.engines.engine(context.session).caps.approvals
    escalated = ApprovalService(context.session, tiers).escalate_due()
    return f"escalated {escalated} approval request(s)"


def register_jobs(registry: JobRegistry) -> None:
    """Register approvals' upkeep: every worker records overdue escalations."""
    registry.periodic("approvals.escalate", ESCALATION_EVERY, escalate_overdue)

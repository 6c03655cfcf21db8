"""A decision's life after the recommendation: accept, approve or reject, fulfil, cancel, expire.

    proposed --accept--> reserved                       (the plan fits: pool, window, capacity)
    proposed --accept--> pending_approval --approve--> reserved
                                          --reject---> rejected
    reserved --fulfil (actual <= reserved)--> fulfilled   (commits actual, releases the rest)
    reserved --fulfil (actual >  reserved)--> overage_pending_approval
                 --approve--> fulfilled   (reserves the difference, if it fits, and commits)
                 --reject---> reserved    (fulfil again at most the reserved cost, or cancel)
    pending_approval | reserved | overage_pending_approval --cancel--> cancelled
    reserved | overage_pending_approval --(reservation TTL passes)--> expired

Who must approve is set by the caps' approval tiers (remedy/decisions/approvals.py); each
request waits in a lead's or finance's queue (remedy/services/approvals.py, the one home of
approvals) and escalates (finance added, the lead keeps it), never expires, while the customer
waits. The money mechanics (reserve, release, expire, locks)
are in reserving.py. A limit that would break is a Conflict naming it under `limit`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from remedy.decisions.approvals import Approver, make_whole_cost
from remedy.decisions.caps import CapSettings
from remedy.decisions.record import HOLDING, DecisionRecord
from remedy.decisions.record import DecisionStatus as S
from remedy.errors import InvalidInput, LimitsExceeded
from remedy.ledger.budgets import pool_state
from remedy.ledger.limits import pool_breach, window_breach
from remedy.ledger.periods import period_at
from remedy.money import MoneyError, check_amount, to_minor
from remedy.services.approvals import ApprovalService, FourEyes
from remedy.services.keys import Principal
from remedy.services.reserving import EXPIRY_BATCH, ReservingService
from remedy.services.reserving_steps import StepResult, acceptable, expect_status
from remedy.store.tables import ApprovalRequest, Decision, utcnow

__all__ = ["EXPIRY_BATCH", "LifecycleService", "StepResult"]


class LifecycleService(ReservingService):
    """Moves decisions through their lifecycle; every step runs in the caller's transaction."""

    def __init__(
        self,
        session: Session,
        caps: CapSettings,
        ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
        note: str = "",
        four_eyes: FourEyes | None = None,
    ) -> None:
        """Work in `session` under the active `caps`; reservations live for `ttl`.

        `note` (why an approver decided, why an agent cancelled) goes into the audit entry of
        every transition this service makes, and onto the approval request it decides.
        `four_eyes`: who may not approve (services/approvals.py); strict by default.
        """
        super().__init__(session, caps, ttl, clock, note)
        self.approvals = ApprovalService(session, caps.approvals, clock, four_eyes)

    # -- the steps -----------------------------------------------------------------------------

    def accept(self, decision_id: str, plan_id: str, actor: str) -> StepResult:
        """Accept a plan: reserve its cost, or send it to its approval tier if it needs one."""
        decision = self._decision(decision_id)
        candidate = acceptable(decision, plan_id)
        expect_status(decision, "accept", (S.PROPOSED,))
        if candidate.requires_approval:
            locked = self._lock_decision(decision.id)
            expect_status(locked, "accept", (S.PROPOSED,))
            self._transition(locked, S.PENDING_APPROVAL, actor, plan_id)
            amount = to_minor(candidate.total_cost, decision.currency)
            record = DecisionRecord.of(decision)
            fix = make_whole_cost(record.plan(candidate).fix_cost, record.incident.loss_amount)
            approver = self._approver(candidate.total_cost, decision.currency, fix)
            self.approvals.request(locked, "plan", amount, approver, actor)
            return StepResult(locked, None)
        return self._reserve(decision, plan_id, actor, "accept", (S.PROPOSED,))

    def approve(
        self, decision_id: str, actor: str, principal: Principal | None = None
    ) -> StepResult:
        """Approve a plan waiting for approval (reserve it) or an overage (commit it).

        `principal` is the approver: a lead decides only its team's lead-tier requests (403
        otherwise); None is the operator's tooling, with finance's powers."""
        decision = self._decision(decision_id)
        expect_status(decision, "approve", (S.PENDING_APPROVAL, S.OVERAGE_PENDING_APPROVAL))
        request = self._checked_request(decision, principal, approving=True)
        if decision.status == S.PENDING_APPROVAL:
            plan_id = decision.accepted_plan_id or ""
            result = self._reserve(decision, plan_id, actor, "approve", (S.PENDING_APPROVAL,))
        else:
            result = self._approve_overage(decision, actor)
        self.approvals.close(request, "approved", actor, _role(principal), self.note)
        return result

    def reject(
        self, decision_id: str, actor: str, principal: Principal | None = None
    ) -> StepResult:
        """Reject a plan waiting for approval, or an overage (the reservation stands)."""
        decision = self._decision(decision_id)
        expect_status(decision, "reject", (S.PENDING_APPROVAL, S.OVERAGE_PENDING_APPROVAL))
        request = self._checked_request(decision, principal)
        if decision.status == S.PENDING_APPROVAL:
            locked = self._lock_decision(decision.id)
            expect_status(locked, "reject", (S.PENDING_APPROVAL,))
            self._transition(locked, S.REJECTED, actor)
            result = StepResult(locked, None)
        else:
            reservation = self._reservation(decision)
            locks, locked = self._lock_reservation(reservation)
            expect_status(locked, "reject", (S.OVERAGE_PENDING_APPROVAL,))
            reservation.requested_minor = None
            self._transition(locked, S.RESERVED, actor)
            result = StepResult(locked, reservation)
        self.approvals.close(request, "rejected", actor, _role(principal), self.note)
        return result

    def fulfil(
        self, decision_id: str, actual_cost: Decimal, currency: str | None, actor: str
    ) -> StepResult:
        """Commit what the plan actually cost; more than reserved waits for approval."""
        decision = self._decision(decision_id)
        actual_minor = _actual_minor(decision, actual_cost, currency)
        expect_status(decision, "fulfil", (S.RESERVED,))
        reservation = self._reservation(decision)
        locks, locked = self._lock_reservation(reservation)
        expect_status(locked, "fulfil", (S.RESERVED,))
        if actual_minor > reservation.reserved_minor:
            reservation.requested_minor = actual_minor
            self._transition(locked, S.OVERAGE_PENDING_APPROVAL, actor)
            approver = self._approver(actual_cost, decision.currency)
            self.approvals.request(locked, "overage", actual_minor, approver, actor)
            return StepResult(locked, reservation)
        now = self.clock()
        versions = (reservation.pool_version, reservation.caps_version)
        rest = reservation.reserved_minor - actual_minor
        # The fix is owed whatever the rest cost: it is committed first, and what was not spent
        # goes back to the overdelivery line before the fix line.
        fix = reservation.fix_reserved_minor
        fix_spent = min(fix, actual_minor)
        self.ledger.move(
            locks, reservation, "commit", actual_minor, "fulfil", actor, now, versions, 0, fix_spent
        )
        if rest:
            self.ledger.move(
                locks, reservation, "release", rest, "fulfil", actor, now, versions, 0,
                fix - fix_spent,
            )  # fmt: skip
        reservation.state = "committed"
        self._transition(locked, S.FULFILLED, actor)
        return StepResult(locked, reservation)

    def cancel(self, decision_id: str, actor: str) -> StepResult:
        """Cancel an accepted plan and release what it holds (an open request ends with it)."""
        decision = self._decision(decision_id)
        holding = HOLDING
        expect_status(decision, "cancel", (S.PENDING_APPROVAL, *holding))
        request = self.approvals.pending_for(decision.id, lock=True)  # first, as approvers do
        if decision.status == S.PENDING_APPROVAL:
            locked = self._lock_decision(decision.id)
            expect_status(locked, "cancel", (S.PENDING_APPROVAL,))
            self._transition(locked, S.CANCELLED, actor)
            self.approvals.close(request, "cancelled", actor, None, self.note)
            return StepResult(locked, None)
        reservation = self._reservation(decision)
        locks, locked = self._lock_reservation(reservation)
        expect_status(locked, "cancel", holding)
        self._release(locks, reservation, "released", "cancel", actor, self.clock())
        self._transition(locked, S.CANCELLED, actor)
        self.approvals.close(request, "cancelled", actor, None, self.note)
        return StepResult(locked, reservation)

    # -- approvals -----------------------------------------------------------------------------

    def _approver(self, cost: Decimal, currency: str, fix: Decimal = Decimal(0)) -> Approver:
        """The tier that decides a plan or an overage of `cost` under the active caps (at
        least a lead: something needed approval), the plan's make-whole `fix` counted out
        within `fix_without_approval` as when it was decided."""
        return self.caps.approvals.approver_for(cost, currency, always=True, fix=fix)

    def _checked_request(
        self, decision: Decision, principal: Principal | None, approving: bool = False
    ) -> ApprovalRequest | None:
        """The decision's open request, if `principal` may decide it (403 otherwise).

        Nothing is escalated here: escalation only adds a tier, so who may decide does not
        depend on whether it was recorded yet (remedy/services/approvals.py)."""
        request = self.approvals.pending_for(decision.id, lock=True)
        if request is None:  # none, or a cancel or decision just ended it: 409 before 403
            self.session.refresh(decision)
            statuses = (S.PENDING_APPROVAL, S.OVERAGE_PENDING_APPROVAL)
            expect_status(decision, "approve or reject", statuses)
        self.approvals.check_may_decide(principal, request, decision, approving)
        return request

    def _approve_overage(self, decision: Decision, actor: str) -> StepResult:
        """Reserve the difference of an approved higher actual cost, if it fits, and commit."""
        reservation = self._reservation(decision)
        locks, locked = self._lock_reservation(reservation)
        expect_status(locked, "approve", (S.OVERAGE_PENDING_APPROVAL,))
        now = self.clock()
        requested = reservation.requested_minor or 0
        extra = requested - reservation.reserved_minor
        pool = self.budgets.pool_of(reservation, now)
        counter = locks.pool_rows[
            (reservation.pool_team, reservation.currency, reservation.period_key)
        ]
        period = period_at(pool.period, now)
        state = pool_state(pool, period, counter)
        window = self.budgets.window_state(
            reservation.customer_id, reservation.currency, self.limits, now
        )
        # The fix was sized to the loss when the plan was made: what the plan cost beyond its
        # reservation is overdelivery, and spends from the overdelivery line.
        breaches = [*pool_breach(extra, state), window_breach(extra, window)]
        if any(breaches):
            raise LimitsExceeded("overage", [b for b in breaches if b is not None])
        versions = (pool.version, self.caps.version)
        fix = reservation.fix_reserved_minor
        self.ledger.move(locks, reservation, "adjust", extra, "approve", actor, now, versions)
        self.ledger.move(
            locks, reservation, "commit", requested, "approve", actor, now, versions, 0, fix
        )
        reservation.requested_minor = None
        reservation.state = "committed"
        self._transition(locked, S.FULFILLED, actor)
        return StepResult(locked, reservation)


def _role(principal: Principal | None) -> str | None:
    """The approver's role as recorded on the request (None: the operator's tooling)."""
    return principal.role if principal is not None else None


def _actual_minor(decision: Decision, actual_cost: Decimal, currency: str | None) -> int:
    """Validate an actual cost against the decision's currency; return minor units."""
    errors: dict[str, list[str]] = {}
    if currency is not None and currency != decision.currency:
        errors["currency"] = [f"must be the decision's currency, {decision.currency}"]
    if actual_cost < 0:
        errors["actual_cost"] = ["must not be negative"]
    minor = 0
    if not errors:
        try:
            minor = to_minor(check_amount(actual_cost, decision.currency), decision.currency)
        except MoneyError as error:
            errors["actual_cost"] = [str(error)]
    if errors:
        raise InvalidInput("Invalid fields: " + ", ".join(sorted(errors)), errors)
    return minor

"""The money mechanics under a decision's lifecycle: reserve a plan's cost, release it, expire
overdue reservations, lock rows in the ledger's order, and move a decision between statuses.

`LifecycleService` (lifecycle.py) builds the steps agents and approvers take on these. Every
money movement goes through `remedy.ledger.book` under its locks; overdue reservations of a
pool are released by the next write that locks that pool (and by `remedy ledger expire`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, load_only

from remedy.decisions.caps import CapSettings
from remedy.decisions.record import DecisionRecord
from remedy.decisions.record import DecisionStatus as S
from remedy.errors import Conflict, LimitsExceeded, NotFound
from remedy.facts import fact
from remedy.ledger.book import Ledger, Locks, overdue
from remedy.ledger.budgets import BudgetService, pool_state
from remedy.ledger.limits import (
    CapacityState,
    broken_limits,
    capacity_breach,
    pool_breach,
    window_breach,
)
from remedy.ledger.periods import Period, day_key, period_at
from remedy.moments import as_utc
from remedy.money import to_minor
from remedy.services.approvals import end_pending
from remedy.services.reserving_steps import (
    Planned,
    PoolRanOut,
    Reserved,
    StepResult,
    acceptable,
    expect_status,
    fix_part,
)
from remedy.store import audit
from remedy.store.tables import BudgetPool, Decision, Reservation, new_id, utcnow

# Overdue reservations a write releases on its way (the rest wait for the next write or the CLI).
EXPIRY_BATCH = 50


class ReservingService:
    """Reserves, releases and expires; every change runs in the caller's transaction."""

    def __init__(
        self,
        session: Session,
        caps: CapSettings,
        ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
        note: str = "",
    ) -> None:
        """Work in `session` under the active `caps`; reservations live for `ttl`.

        `note` (why finance approved or rejected, why an agent cancelled) goes into the audit
        entry of every transition this service makes.
        """
        self.note = note
        self.session = session
        self.caps = caps
        self.limits = caps.limits
        self.ttl = ttl
        self.clock = clock
        self.ledger = Ledger(session, clock)
        self.budgets = BudgetService(session)

    def begin(self) -> None:
        """Start a write (on SQLite: take the write lock before any read)."""
        self.ledger.begin()

    def overdue_pools(self) -> list[tuple[str, str]]:
        """Return the (pool team, currency) pairs that have overdue open reservations."""
        rows = self.session.execute(
            sa.select(Reservation.pool_team, Reservation.currency)
            .where(Reservation.state == "open", Reservation.expires_at <= self.clock())
            .distinct()
            .order_by(Reservation.pool_team, Reservation.currency)
        )
        return [(team, currency) for team, currency in rows]

    def expire_overdue(self, pool_team: str, currency: str, actor: str = "expiry") -> int:
        """Release up to one batch of a pool's overdue reservations; return how many."""
        locks = Locks()
        stale = overdue(self.session, pool_team, currency, self.clock(), EXPIRY_BATCH)
        for reservation in stale:
            locks.add_reservation(reservation)
        self.ledger.lock(locks)
        return self._expire(locks, stale, actor)

    # -- reserving -----------------------------------------------------------------------------

    def _reserve(
        self,
        decision: Decision,
        plan_id: str,
        actor: str,
        reason: str,
        expected: tuple[str, ...],
    ) -> StepResult:
        """Reserve a plan's cost in the pool, the customer window and the contact capacity."""
        candidate = acceptable(decision, plan_id)
        amount = to_minor(candidate.total_cost, decision.currency)
        record = DecisionRecord.of(decision)
        level = record.contact_level(candidate)
        fix = fix_part(record, candidate, amount)
        now = self.clock()
        pool = self.budgets.pool_to_spend(decision.team, decision.currency, now)
        period = period_at(pool.period, now)
        locks = Locks(
            pools={(pool.team, decision.currency, period.key)},
            customers={(decision.customer_id, decision.currency)},
            capacities={(decision.team, level, day_key(now))} if level else set(),
            decisions={decision.id},
        )
        stale = overdue(self.session, pool.team, decision.currency, now, EXPIRY_BATCH)
        for reservation in stale:
            locks.add_reservation(reservation)
        pools, locks.pools = locks.pools, set()
        self.ledger.lock(locks)  # customers, contact days, decisions
        locked = locks.decision_rows[decision.id]
        expect_status(locked, reason, expected)
        window = self.budgets.window_state(
            decision.customer_id, decision.currency, self.limits, now
        )
        locks.pools = pools
        self.ledger.lock(locks)  # then the pool periods, held until the commit
        if self._expire(locks, stale, "expiry") and any(
            r.customer_id == decision.customer_id for r in stale
        ):  # the customer had an overdue reservation: count the window again
            window = self.budgets.window_state(
                decision.customer_id, decision.currency, self.limits, now
            )
        counter = locks.pool_rows[(pool.team, decision.currency, period.key)]
        capacity = None
        if level:
            team, day = decision.team, day_key(now)
            used = locks.capacity_rows[(team, level, day)].used
            limit = self.limits.capacity_for(level, team)
            capacity = CapacityState(level, day, limit, used, team)
        state = pool_state(pool, period, counter)
        breaches = broken_limits(amount, state, window, capacity, fix)
        if breaches:
            raise LimitsExceeded("plan", breaches)
        planned = Planned(
            decision.id, plan_id, decision.customer_id, decision.currency, amount, fix, level
        )
        reservation = self._open(locks, locked, planned, pool, period.key, actor, reason, now)
        return StepResult(locked, reservation)

    def _open(
        self,
        locks: Locks,
        locked: Decision,
        planned: Planned,
        pool: BudgetPool,
        period_key: str,
        actor: str,
        reason: str,
        now: datetime,
    ) -> Reservation:
        """Open the reservation of a plan whose limits were checked under `locks`: one
        `reserve` entry, the counters, and the decision reserved (audited)."""
        level = planned.contact_level
        reservation = Reservation(
            id=new_id(),
            decision_id=planned.decision_id,
            plan_id=planned.plan_id,
            state="open",
            currency=planned.currency,
            pool_team=pool.team,
            period_key=period_key,
            customer_id=planned.customer_id,
            contact_level=level,
            contact_team=locked.team,
            reserved_minor=0,
            committed_minor=0,
            fix_reserved_minor=0,
            fix_committed_minor=0,
            pool_version=pool.version,
            caps_version=self.caps.version,
            created_at=now,
            expires_at=now + self.ttl,
            updated_at=now,
        )
        self.session.add(reservation)
        versions = (pool.version, self.caps.version)
        contacts = 1 if level else 0
        self.ledger.move(
            locks,
            reservation,
            "reserve",
            planned.amount_minor,
            reason,
            actor,
            now,
            versions,
            contacts,
            planned.fix_minor,
        )
        self._transition(locked, S.RESERVED, actor, planned.plan_id)
        return reservation

    def reserve_many(self, plans: Sequence[Planned], actor: str, reason: str) -> list[Reserved]:
        """Reserve many proposed plans in the caller's transaction, all or nothing for the pool.

        Every row is locked once, in the ledger's order (customers, contact days, decisions,
        then the pools), so a batch queues with single accepts and never deadlocks with them.
        A plan whose decision is no longer proposed is `skipped`; one that would break its
        customer's window or today's contact capacity is `refused`, naming the limit, and the
        others go on. If the plans left would break a pool (or a team has no pool), nothing is
        reserved: `PoolRanOut` names it, and the caller rolls back. Otherwise each plan gets
        the same reservation, ledger entry and audited transition a single accept gives.
        """
        now = self.clock()
        locks = Locks()
        pools: dict[tuple[str, str], tuple[BudgetPool, Period]] = {}
        for plan in plans:
            key = (plan.team, plan.currency)
            if key not in pools:
                try:
                    pool = self.budgets.pool_to_spend(plan.team, plan.currency, now)
                except Conflict:
                    raise PoolRanOut(
                        [fact("no_pool", team=plan.team, currency=plan.currency)]
                    ) from None
                pools[key] = (pool, period_at(pool.period, now))
            pool, period = pools[key]
            locks.pools.add((pool.team, plan.currency, period.key))
            locks.customers.add((plan.customer_id, plan.currency))
            if plan.contact_level:
                locks.capacities.add((plan.team, plan.contact_level, day_key(now)))
            locks.decisions.add(plan.decision_id)
        stale: list[Reservation] = []
        for pool, _period in pools.values():
            stale.extend(overdue(self.session, pool.team, pool.currency, now, EXPIRY_BATCH))
        for reservation in stale:
            locks.add_reservation(reservation)
        # Only what the steps change: not thousands of candidate lists (loaded on access).
        # Held here, so the session's identity map (weak) keeps them for the locks below.
        preloaded = self.session.scalars(
            sa.select(Decision)
            .where(Decision.id.in_(sorted(locks.decisions)))
            .options(load_only(Decision.id, Decision.status, Decision.accepted_plan_id))
        ).all()
        wanted_pools, locks.pools = locks.pools, set()
        self.ledger.lock(locks)  # customers, contact days, decisions
        locks.pools = wanted_pools
        self.ledger.lock(locks)  # then the pool periods, held until the commit
        del preloaded
        self._expire(locks, stale, "expiry")
        outcomes: list[Reserved] = []
        taken: dict[tuple[str, str], int] = {}  # contacts a team's level takes in this batch
        spend: dict[tuple[str, str, str], tuple[int, int]] = {}  # pool key -> (amount, fix)
        for plan in plans:
            locked = locks.decision_rows.get(plan.decision_id)
            if locked is None or locked.status != S.PROPOSED:
                status = locked.status if locked is not None else "missing"
                skipped = fact("decision_not_proposed", status=status)
                outcomes.append(Reserved(plan, "skipped", [skipped]))
                continue
            window = self.budgets.window_state(plan.customer_id, plan.currency, self.limits, now)
            breaches = [window_breach(plan.amount_minor, window)]
            if plan.contact_level:
                team, level, day = plan.team, plan.contact_level, day_key(now)
                used = locks.capacity_rows[(team, level, day)].used + taken.get((team, level), 0)
                limit = self.limits.capacity_for(level, team)
                breaches.append(capacity_breach(CapacityState(level, day, limit, used, team)))
            broken = [b for b in breaches if b is not None]
            if broken:
                outcomes.append(Reserved(plan, "refused", broken))
                continue
            pool, period = pools[(plan.team, plan.currency)]
            key = (pool.team, plan.currency, period.key)
            amount, fix = spend.get(key, (0, 0))
            amount, fix = amount + plan.amount_minor, fix + plan.fix_minor
            state = pool_state(pool, period, locks.pool_rows[key])
            breach = pool_breach(amount, state, fix)
            if breach:
                raise PoolRanOut(breach)
            spend[key] = (amount, fix)
            if plan.contact_level:
                taken_key = (plan.team, plan.contact_level)
                taken[taken_key] = taken.get(taken_key, 0) + 1
            outcomes.append(Reserved(plan, "reserved", []))
        for outcome in outcomes:
            if outcome.state != "reserved":
                continue
            plan = outcome.plan
            pool, period = pools[(plan.team, plan.currency)]
            locked = locks.decision_rows[plan.decision_id]
            self._open(locks, locked, plan, pool, period.key, actor, reason, now)
        return outcomes

    # -- expiry and release --------------------------------------------------------------------

    def _expire(self, locks: Locks, stale: list[Reservation], actor: str) -> int:
        """Release the overdue reservations among `stale` whose rows are all locked."""
        now = self.clock()
        expired = 0
        for reservation in stale:
            self.session.refresh(reservation)  # its state as of now, under the locks
            if (
                reservation.state != "open"
                or as_utc(reservation.expires_at) > now
                or not locks.covers(reservation)
            ):
                continue
            self._release(locks, reservation, "expired", "expire", actor, now)
            decision = locks.decision_rows[reservation.decision_id]
            self._transition(decision, S.EXPIRED, actor)
            end_pending(self.session, decision.id, "expired", actor, now)  # an overage's request
            expired += 1
        return expired

    def _release(
        self,
        locks: Locks,
        reservation: Reservation,
        state: str,
        reason: str,
        actor: str,
        now: datetime,
    ) -> None:
        """Release everything a reservation holds (money, each line's part, and its contact)."""
        versions = (reservation.pool_version, reservation.caps_version)
        contacts = -1 if reservation.contact_level else 0
        self.ledger.move(
            locks,
            reservation,
            "release",
            reservation.reserved_minor,
            reason,
            actor,
            now,
            versions,
            contacts,
            reservation.fix_reserved_minor,
        )
        reservation.requested_minor = None
        reservation.state = state

    # -- reading and locking -------------------------------------------------------------------

    def _decision(self, decision_id: str) -> Decision:
        """Load a decision or raise NotFound."""
        decision = self.session.get(Decision, decision_id)
        if decision is None:
            raise NotFound(f"no decision {decision_id!r}")
        return decision

    def _reservation(self, decision: Decision) -> Reservation:
        """Load the reservation a decision holds."""
        reservation = self.session.scalar(
            sa.select(Reservation).where(Reservation.decision_id == decision.id)
        )
        if reservation is None:  # a decision in a holding status always has one
            raise Conflict(f"decision {decision.id} holds no reservation")
        return reservation

    def _lock_decision(self, decision_id: str) -> Decision:
        """Lock one decision row (steps that move no money)."""
        return self.ledger.lock(Locks(decisions={decision_id})).decision_rows[decision_id]

    def _lock_reservation(self, reservation: Reservation) -> tuple[Locks, Decision]:
        """Lock a reservation's rows and its pool's overdue ones; release those; refresh it."""
        now = self.clock()
        locks = Locks()
        locks.add_reservation(reservation)
        stale = overdue(
            self.session, reservation.pool_team, reservation.currency, now, EXPIRY_BATCH
        )
        for other in stale:
            locks.add_reservation(other)
        self.ledger.lock(locks)
        self._expire(locks, stale, "expiry")
        self.session.refresh(reservation)
        return locks, locks.decision_rows[reservation.decision_id]

    def _transition(
        self, decision: Decision, status: str, actor: str, plan_id: str | None = None
    ) -> None:
        """Change a decision's status (and accepted plan) and audit it."""
        before: dict[str, Any] = {"status": decision.status, "plan_id": decision.accepted_plan_id}
        decision.status = status
        if plan_id is not None:
            decision.accepted_plan_id = plan_id
        after = {"status": status, "plan_id": decision.accepted_plan_id}
        if self.note:
            after["note"] = self.note
        audit.record(self.session, actor, "transition", "decision", decision.id, before, after)

"""Budget pools per team and currency: versions set by finance, and what each pool holds now.

A pool version names a period (week or month), a limit and a currency; the highest version in
effect applies. A team without a pool of its own in a currency spends from the `default` team's
pool in that currency; with neither, nothing can be reserved (finance sets a ceiling first).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.ledger.headroom import PriorIncidents, read_headroom
from remedy.ledger.limits import Headroom, PoolState, WindowState, pool_pace
from remedy.ledger.pacing import PacingSettings
from remedy.ledger.periods import (
    EFFECTIVE_AT_GRACE,
    Period,
    period_at,
    period_kind,
)
from remedy.ledger.pools import PoolPace, PoolStanding, PoolVersion, pool_errors
from remedy.ledger.settings import DEFAULT_TEAM, LimitSettings
from remedy.moments import as_utc
from remedy.money import from_minor, to_minor
from remedy.store import audit
from remedy.store.tables import BudgetPool, PoolCounter, Reservation, utcnow

__all__ = [
    "DEFAULT_TEAM",
    "BudgetService",
    "PoolStanding",
    "PoolVersion",
    "pool_state",
]


def pool_state(pool: BudgetPool, period: Period, counter: PoolCounter | None) -> PoolState:
    """Combine a pool version, its period and the period's counter (both lines)."""
    return PoolState(
        team=pool.team,
        currency=pool.currency,
        period_key=period.key,
        limit_minor=pool.limit_minor,
        reserved_minor=counter.reserved_minor if counter else 0,
        committed_minor=counter.committed_minor if counter else 0,
        fix_limit_minor=pool.fix_limit_minor,
        fix_reserved_minor=counter.fix_reserved_minor if counter else 0,
        fix_committed_minor=counter.fix_committed_minor if counter else 0,
    )


class BudgetService:
    """Reads and changes budget pools."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def pool_version(self, team: str, currency: str, at: datetime) -> BudgetPool | None:
        """Return the pool version of `team` in `currency` in effect at `at`."""
        return self.session.scalar(
            sa.select(BudgetPool)
            .where(
                BudgetPool.team == team,
                BudgetPool.currency == currency,
                BudgetPool.effective_at <= at,
            )
            .order_by(BudgetPool.version.desc())
            .limit(1)
        )

    def resolve_pool(self, team: str, currency: str, at: datetime) -> BudgetPool | None:
        """Return the pool a decision of `team` spends from: the team's, else the default."""
        pool = self.pool_version(team, currency, at)
        if pool is None and team != DEFAULT_TEAM:
            pool = self.pool_version(DEFAULT_TEAM, currency, at)
        return pool

    def pool_to_spend(self, team: str, currency: str, at: datetime) -> BudgetPool:
        """Return the pool a team spends from in `currency`, or refuse: finance sets one first."""
        pool = self.resolve_pool(team, currency, at)
        if pool is None:
            message = (
                f"no budget pool for team {team} (nor a default pool) in {currency}; "
                "finance sets one with PUT /v1/budgets/<team>"
            )
            raise Conflict(message, {"limit": [message]})
        return pool

    def pool_of(self, reservation: Reservation, at: datetime) -> BudgetPool:
        """Return the pool version in effect for a reservation's pool and period kind."""
        pool = self.session.scalar(
            sa.select(BudgetPool)
            .where(
                BudgetPool.team == reservation.pool_team,
                BudgetPool.currency == reservation.currency,
                BudgetPool.period == period_kind(reservation.period_key),
                BudgetPool.effective_at <= at,
            )
            .order_by(BudgetPool.version.desc())
            .limit(1)
        )
        if pool is None:
            raise Conflict(f"no pool {reservation.pool_team} in {reservation.currency} in effect")
        return pool

    def set_pool(
        self,
        team: str,
        period: str,
        limit: Decimal | None,
        currency: str,
        actor: str,
        effective_at: datetime | None = None,
        fix_limit: Decimal | None = None,
        overdelivery_limit: Decimal | None = None,
    ) -> BudgetPool:
        """Store a new version of a team's pool in `currency`; audit old and new.

        One `limit` is one line for fix and overdelivery money; `fix_limit` and
        `overdelivery_limit` split the pool into two lines (the limit is then their sum, and a
        `limit` given beside them must equal it).
        """
        errors = pool_errors(period, limit, currency, fix_limit, overdelivery_limit)
        now = utcnow()
        if effective_at is not None and as_utc(effective_at) < now - EFFECTIVE_AT_GRACE:
            errors["effective_at"] = ["must not be in the past"]
        if errors:
            raise InvalidInput("Invalid fields: " + ", ".join(sorted(errors)), errors)
        latest = self.session.scalar(
            sa.select(BudgetPool)
            .where(BudgetPool.team == team, BudgetPool.currency == currency)
            .order_by(BudgetPool.version.desc())
            .limit(1)
        )
        split = fix_limit is not None and overdelivery_limit is not None
        total = fix_limit + overdelivery_limit if split else limit  # type: ignore[operator]
        pool = BudgetPool(
            team=team,
            currency=currency,
            version=(latest.version if latest else 0) + 1,
            period=period,
            limit_minor=to_minor(total, currency),  # type: ignore[arg-type]
            fix_limit_minor=to_minor(fix_limit, currency) if split else None,  # type: ignore[arg-type]
            effective_at=max(as_utc(effective_at), now) if effective_at else now,
            created_at=now,
            created_by=actor,
        )
        self.session.add(pool)
        self.session.flush()
        audit.record(
            self.session,
            actor,
            "update" if latest else "create",
            "budget_pool",
            f"{team}/{currency}",
            _pool_audit(latest) if latest else None,
            _pool_audit(pool),
        )
        return pool

    def history(self, team: str, currency: str | None, at: datetime) -> list[PoolVersion]:
        """Return every version of `team`'s pools (one currency or all), newest first.

        Each says its state at `at`: `active` (the version in effect), `scheduled` (takes
        effect later) or `superseded` (an older version, or one replaced before it began).
        """
        query = sa.select(BudgetPool).where(BudgetPool.team == team)
        if currency is not None:
            query = query.where(BudgetPool.currency == currency)
        rows = list(
            self.session.scalars(query.order_by(BudgetPool.currency, BudgetPool.version.desc()))
        )
        if not rows:
            where = f" in {currency}" if currency else ""
            raise NotFound(f"no pool versions for team {team!r}{where}")
        active: dict[str, int] = {}
        for row in rows:  # newest first per currency: the first in effect is the active one
            if row.currency not in active and as_utc(row.effective_at) <= at:
                active[row.currency] = row.version
        history = []
        for row in rows:
            if as_utc(row.effective_at) > at:
                state = "scheduled"
            elif active.get(row.currency) == row.version:
                state = "active"
            else:
                state = "superseded"
            history.append(PoolVersion(row, state))
        return history

    def overview(self, at: datetime, pacing: PacingSettings) -> list[PoolStanding]:
        """Return every pool in effect: limit, reserved, committed, remaining and pace."""
        latest = (
            sa.select(
                BudgetPool.team, BudgetPool.currency, sa.func.max(BudgetPool.version).label("v")
            )
            .where(BudgetPool.effective_at <= at)
            .group_by(BudgetPool.team, BudgetPool.currency)
            .subquery()
        )
        pools = self.session.scalars(
            sa.select(BudgetPool)
            .join(
                latest,
                sa.and_(
                    BudgetPool.team == latest.c.team,
                    BudgetPool.currency == latest.c.currency,
                    BudgetPool.version == latest.c.v,
                ),
            )
            .order_by(BudgetPool.team, BudgetPool.currency)
        ).all()
        scheduled = {
            (p.team, p.currency): p
            for p in self.session.scalars(
                sa.select(BudgetPool)
                .where(BudgetPool.effective_at > at)
                .order_by(BudgetPool.version)
            )
        }
        return [
            self._standing(pool, at, pacing, scheduled.get((pool.team, pool.currency)))
            for pool in pools
        ]

    def standing(
        self, team: str, currency: str, at: datetime, pacing: PacingSettings
    ) -> PoolStanding:
        """Return one pool's standing at `at` (NotFound when none is in effect)."""
        for pool in self.overview(at, pacing):
            if (pool.team, pool.currency) == (team, currency):
                return pool
        raise NotFound(f"no pool {team!r} in {currency} in effect")

    def _standing(
        self, pool: BudgetPool, at: datetime, pacing: PacingSettings, scheduled: BudgetPool | None
    ) -> PoolStanding:
        """Combine one pool version with its period's counter and pace at `at`."""
        period = period_at(pool.period, at)
        state = pool_state(pool, period, self._counter(pool.team, pool.currency, period.key))
        current = pool_pace(state, period.elapsed_share(at), pacing)
        on_pace = int(state.overdelivery_line.limit_minor * current.elapsed_share)
        return PoolStanding(
            pool, period, state, PoolPace(pool.currency, current, on_pace), scheduled
        )

    def _counter(self, team: str, currency: str, period_key: str) -> PoolCounter | None:
        """Return a pool period's counter row, if any entry touched it yet."""
        return self.session.get(PoolCounter, (team, currency, period_key))

    def headroom(
        self,
        team: str,
        customer_id: str,
        currency: str,
        limits: LimitSettings,
        at: datetime,
        prior: PriorIncidents | None = None,
    ) -> Headroom:
        """Return what is left for a decision (read without locks: advisory, for ranking), in
        one query (remedy/ledger/headroom.py); with `prior`, the customer's earlier incidents
        too."""
        return read_headroom(self.session, team, customer_id, currency, limits, at, prior)

    def window_state(
        self, customer_id: str, currency: str, limits: LimitSettings, at: datetime
    ) -> WindowState:
        """Return what `customer_id` holds in the rolling window ending at `at`."""
        limit = limits.window_limit_minor(currency)
        used = 0
        if limit is not None:
            used = self.session.scalar(
                sa.select(
                    sa.func.coalesce(
                        sa.func.sum(Reservation.reserved_minor + Reservation.committed_minor), 0
                    )
                ).where(
                    Reservation.customer_id == customer_id,
                    Reservation.currency == currency,
                    Reservation.created_at > at - timedelta(days=limits.window_days),
                )
            )
        return WindowState(
            customer_id,
            currency,
            limits.window_days,
            limit,
            int(used),
        )


def _pool_audit(pool: BudgetPool) -> dict[str, Any]:
    """A pool version as the audit log and the overview show it."""
    return {
        "version": pool.version,
        "period": pool.period,
        "limit": str(from_minor(pool.limit_minor, pool.currency)),
        **(
            {}
            if pool.fix_limit_minor is None
            else {
                "fix_limit": str(from_minor(pool.fix_limit_minor, pool.currency)),
                "overdelivery_limit": str(
                    from_minor(pool.limit_minor - pool.fix_limit_minor, pool.currency)
                ),
            }
        ),
        "currency": pool.currency,
        "effective_at": as_utc(pool.effective_at).isoformat(),
    }

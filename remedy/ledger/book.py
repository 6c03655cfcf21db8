"""The ledger through a session: lock the counters in one fixed order, then move money.

Every write that can change what a pool, a customer or a day's contact capacity holds runs as:

1. `begin()`: on SQLite, take the database's write lock before the first read (BEGIN IMMEDIATE);
2. `lock(...)`: create the counter rows it needs if missing, then lock them with
   `SELECT ... FOR UPDATE` in one fixed order (customers, contact days, decisions, pool
   periods, each sorted; the pool, shared by most writers, last so it is held the shortest),
   so writers queue on the same rows and never deadlock;
3. read balances and check limits (now consistent: nobody else can change them), then `move`:
   one append-only ledger entry plus the same change to the reservation and the counters.

The counters are therefore always the sums of the ledger's entries; `verify` checks that.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from remedy.ledger.entries import Entry, effect
from remedy.ledger.periods import day_key
from remedy.ledger.settings import LimitSettings
from remedy.ledger.verify import (
    CapsLimits,
    Counters,
    PoolLimit,
    Report,
    ReservationRow,
    verify,
)
from remedy.moments import as_utc
from remedy.store.session import begin_snapshot, begin_write
from remedy.store.tables import (
    BudgetPool,
    CapacityCounter,
    ConfigVersion,
    CustomerCounter,
    Decision,
    LedgerEntry,
    PoolCounter,
    Reservation,
    utcnow,
)

PoolKey = tuple[str, str, str]  # team, currency, period key
CustomerKey = tuple[str, str]  # customer id, currency
CapacityKey = tuple[str, str, str]  # team, level, day


def capacity_key(reservation: Reservation) -> CapacityKey:
    """The day of contacts a reservation's personal contact counts in: its team's, on the UTC
    day it was reserved."""
    level = reservation.contact_level or ""
    return (reservation.contact_team, level, day_key(reservation.created_at))


@dataclass
class Locks:
    """The rows one write needs, and after `Ledger.lock` the locked counters."""

    pools: set[PoolKey] = field(default_factory=set)
    customers: set[CustomerKey] = field(default_factory=set)
    capacities: set[CapacityKey] = field(default_factory=set)
    decisions: set[str] = field(default_factory=set)
    pool_rows: dict[PoolKey, PoolCounter] = field(default_factory=dict)
    customer_rows: dict[CustomerKey, CustomerCounter] = field(default_factory=dict)
    capacity_rows: dict[CapacityKey, CapacityCounter] = field(default_factory=dict)
    decision_rows: dict[str, Decision] = field(default_factory=dict)

    def add_reservation(self, reservation: Reservation) -> None:
        """Add the rows a movement of `reservation` touches."""
        self.pools.add((reservation.pool_team, reservation.currency, reservation.period_key))
        self.customers.add((reservation.customer_id, reservation.currency))
        if reservation.contact_level:
            self.capacities.add(capacity_key(reservation))
        self.decisions.add(reservation.decision_id)

    def covers(self, reservation: Reservation) -> bool:
        """Tell whether every row a movement of `reservation` touches is locked."""
        needed = Locks()
        needed.add_reservation(reservation)
        return (
            needed.pools <= set(self.pool_rows)
            and needed.customers <= set(self.customer_rows)
            and needed.capacities <= set(self.capacity_rows)
            and needed.decisions <= set(self.decision_rows)
        )


class Ledger:
    """Locks counters and records movements in the caller's transaction."""

    def __init__(self, session: Session, clock: Callable[[], datetime] = utcnow) -> None:
        """Work in `session`; `clock` gives the time (tests move it)."""
        self.session = session
        self.clock = clock

    def begin(self) -> None:
        """Start the write: on SQLite take the write lock before any read."""
        begin_write(self.session)

    def lock(self, locks: Locks) -> Locks:
        """Create missing counter rows and lock every row of `locks` in the fixed order.

        The order is customers, contact days, decisions, then pool periods: a pool is the row
        most writers share, so it is taken last and held for the shortest time. A caller may
        lock in two calls (everything but pools, then pools) and stay in that order.
        """
        customers = sorted(locks.customers - set(locks.customer_rows))
        if customers:
            self._ensure(CustomerCounter, ("customer_id", "currency"), customers)
            rows = self._locked(
                CustomerCounter, (CustomerCounter.customer_id, CustomerCounter.currency), customers
            )
            locks.customer_rows.update({(r.customer_id, r.currency): r for r in rows})
        capacities = sorted(locks.capacities - set(locks.capacity_rows))
        if capacities:
            self._ensure(CapacityCounter, ("team", "level", "day"), capacities)
            rows = self._locked(
                CapacityCounter,
                (CapacityCounter.team, CapacityCounter.level, CapacityCounter.day),
                capacities,
            )
            locks.capacity_rows.update({(r.team, r.level, r.day): r for r in rows})
        for decision_id in sorted(locks.decisions - set(locks.decision_rows)):
            decision = self.session.get(Decision, decision_id)
            if decision is not None:
                # Lock the row and re-read only what steps change (not the candidate list).
                self.session.refresh(decision, ["status", "accepted_plan_id"], with_for_update=True)
                locks.decision_rows[decision_id] = decision
        pools = sorted(locks.pools - set(locks.pool_rows))
        if pools:
            self._ensure(PoolCounter, ("team", "currency", "period_key"), pools)
            rows = self._locked(
                PoolCounter, (PoolCounter.team, PoolCounter.currency, PoolCounter.period_key), pools
            )
            locks.pool_rows.update({(r.team, r.currency, r.period_key): r for r in rows})
        return locks

    def _ensure(self, model: type, names: tuple[str, ...], keys: list[tuple[str, ...]]) -> None:
        """Insert the counter rows that do not exist yet (in key order, like the locks)."""
        dialect = self.session.get_bind().dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
        statement = insert(model).values([dict(zip(names, key, strict=True)) for key in keys])
        self.session.execute(statement.on_conflict_do_nothing())

    def _locked(self, model: type, columns: tuple[Any, ...], keys: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
        """Select rows by key with FOR UPDATE, in key order (PostgreSQL locks as it returns)."""
        return self.session.scalars(
            sa.select(model)
            .where(sa.tuple_(*columns).in_(keys))
            .order_by(*columns)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()

    def move(
        self,
        locks: Locks,
        reservation: Reservation,
        kind: str,
        amount_minor: int,
        reason: str,
        actor: str,
        at: datetime,
        versions: tuple[int, int],
        contacts: int = 0,
        fix_minor: int = 0,
    ) -> LedgerEntry:
        """Append one entry and apply the same change to the reservation and the counters.

        `versions` are the pool and caps versions whose limits the caller checked;
        `fix_minor` is the part of `amount_minor` on the pool's fix line.
        """
        entry = LedgerEntry(
            at=at,
            kind=kind,
            amount_minor=amount_minor,
            fix_minor=fix_minor,
            contacts=contacts,
            currency=reservation.currency,
            pool_team=reservation.pool_team,
            period_key=reservation.period_key,
            customer_id=reservation.customer_id,
            decision_id=reservation.decision_id,
            reservation_id=reservation.id,
            contact_level=reservation.contact_level,
            reason=reason,
            actor=actor,
            pool_version=versions[0],
            caps_version=versions[1],
        )
        d_reserved, d_committed = effect(kind, amount_minor)
        f_reserved, f_committed = effect(kind, fix_minor)
        reservation.reserved_minor += d_reserved
        reservation.committed_minor += d_committed
        reservation.fix_reserved_minor += f_reserved
        reservation.fix_committed_minor += f_committed
        reservation.updated_at = at
        pool_key = (reservation.pool_team, reservation.currency, reservation.period_key)
        pool = locks.pool_rows[pool_key]
        pool.reserved_minor += d_reserved
        pool.committed_minor += d_committed
        pool.fix_reserved_minor += f_reserved
        pool.fix_committed_minor += f_committed
        customer = locks.customer_rows[(reservation.customer_id, reservation.currency)]
        customer.reserved_minor += d_reserved
        customer.committed_minor += d_committed
        if contacts and reservation.contact_level:
            locks.capacity_rows[capacity_key(reservation)].used += contacts
        self.session.add(entry)
        return entry


class HistoricalLimits:
    """Every pool version and caps version, by version number (a few rows each)."""

    def __init__(self, session: Session) -> None:
        """Load the versions."""
        self._pools = {
            (p.team, p.currency, p.version): PoolLimit(
                p.period, p.limit_minor, as_utc(p.effective_at), p.fix_limit_minor
            )
            for p in session.scalars(sa.select(BudgetPool))
        }
        self._caps: dict[int, CapsLimits] = {}
        for row in session.scalars(sa.select(ConfigVersion).where(ConfigVersion.kind == "caps")):
            self._caps[row.version] = CapsLimits(
                as_utc(row.effective_at), LimitSettings.from_document(row.document)
            )

    def pool(self, team: str, currency: str, version: int) -> PoolLimit | None:
        """Return a pool version's limit."""
        return self._pools.get((team, currency, version))

    def caps(self, version: int) -> CapsLimits | None:
        """Return a caps version's shared limits."""
        return self._caps.get(version)


def _entries(session: Session, batch: int = 5000) -> Iterator[Entry]:
    """Stream every ledger entry in id order as plain tuples."""
    columns = [
        LedgerEntry.id,
        LedgerEntry.at,
        LedgerEntry.kind,
        LedgerEntry.amount_minor,
        LedgerEntry.contacts,
        LedgerEntry.currency,
        LedgerEntry.pool_team,
        LedgerEntry.period_key,
        LedgerEntry.customer_id,
        LedgerEntry.decision_id,
        LedgerEntry.reservation_id,
        LedgerEntry.contact_level,
        LedgerEntry.pool_version,
        LedgerEntry.caps_version,
        LedgerEntry.fix_minor,
    ]
    last = 0
    while True:
        rows = session.execute(
            sa.select(*columns).where(LedgerEntry.id > last).order_by(LedgerEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield Entry(*row)
        last = rows[-1][0]


def verify_ledger(session: Session) -> tuple[Report, float]:
    """Recompute every balance from the entries and check the invariants; return the seconds."""
    started = time.perf_counter()
    begin_snapshot(session)
    reservations = {
        row.id: row
        for row in (
            ReservationRow(*r)
            for r in session.execute(
                sa.select(
                    Reservation.id,
                    Reservation.state,
                    Reservation.currency,
                    Reservation.pool_team,
                    Reservation.period_key,
                    Reservation.customer_id,
                    Reservation.contact_level,
                    Reservation.reserved_minor,
                    Reservation.committed_minor,
                    Reservation.fix_reserved_minor,
                    Reservation.fix_committed_minor,
                    Reservation.contact_team,
                )
            )
        )
    }

    def pairs(*columns: Any, width: int = 2) -> dict[tuple[str, ...], tuple[int, ...]]:
        """Read a counter table as {key: (reserved, committed[, fix ...])} without ORM
        objects (the last `width` columns are the amounts)."""
        return {tuple(r[:-width]): tuple(r[-width:]) for r in session.execute(sa.select(*columns))}

    counters = Counters(
        pools=pairs(  # type: ignore[arg-type]
            PoolCounter.team,
            PoolCounter.currency,
            PoolCounter.period_key,
            PoolCounter.reserved_minor,
            PoolCounter.committed_minor,
            PoolCounter.fix_reserved_minor,
            PoolCounter.fix_committed_minor,
            width=4,
        ),
        customers=pairs(  # type: ignore[arg-type]
            CustomerCounter.customer_id,
            CustomerCounter.currency,
            CustomerCounter.reserved_minor,
            CustomerCounter.committed_minor,
        ),
        capacities={
            (team, level, day): used
            for team, level, day, used in session.execute(
                sa.select(
                    CapacityCounter.team,
                    CapacityCounter.level,
                    CapacityCounter.day,
                    CapacityCounter.used,
                )
            )
        },
    )
    report = verify(_entries(session), reservations, counters, HistoricalLimits(session))
    return report, time.perf_counter() - started


def overdue(
    session: Session, pool_team: str, currency: str, at: datetime, limit: int
) -> list[Reservation]:
    """Return up to `limit` open reservations of a pool past their expiry (oldest first)."""
    return list(
        session.scalars(
            sa.select(Reservation)
            .where(
                Reservation.pool_team == pool_team,
                Reservation.currency == currency,
                Reservation.state == "open",
                Reservation.expires_at <= at,
            )
            .order_by(Reservation.expires_at, Reservation.id)
            .limit(limit)
        )
    )

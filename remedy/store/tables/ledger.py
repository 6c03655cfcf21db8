"""The money: pools, their counters, reservations and the append-only ledger."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from remedy.store.tables.base import Base, BigId, Timestamp, new_id, utcnow


class BudgetPool(Base):
    """One version of a team's pool in one currency; the highest version in effect applies."""

    __tablename__ = "budget_pools"
    __table_args__ = (
        sa.UniqueConstraint("team", "currency", "version", name="uq_budget_pools_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    version: Mapped[int] = mapped_column()
    period: Mapped[str] = mapped_column(sa.String(8))  # week | month
    limit_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # The fix line's limit when finance splits the pool into a fix line and an overdelivery
    # line (limit_minor - fix_limit_minor); None: one line for both (remedy/ledger/limits.py).
    fix_limit_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    effective_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))


class PoolCounter(Base):
    """What one pool period holds; locked by every writer of that pool (sums of the ledger)."""

    __tablename__ = "pool_counters"

    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The fix line's part of the two above (the overdelivery line holds the rest).
    fix_reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fix_committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CustomerCounter(Base):
    """What one customer holds in one currency, all time; locked by writers for the customer."""

    __tablename__ = "customer_counters"

    customer_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CapacityCounter(Base):
    """One team's personal contacts of one level held on one UTC day; locked by writers of that
    team's day (teams never share a day's capacity)."""

    __tablename__ = "capacity_counters"

    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class Reservation(Base):
    """The budget a decision's accepted plan holds: at most one per decision."""

    __tablename__ = "reservations"
    __table_args__ = (
        sa.Index("ix_reservations_expiry", "pool_team", "currency", "state", "expires_at"),
        sa.Index("ix_reservations_window", "customer_id", "currency", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    plan_id: Mapped[str] = mapped_column(sa.String(255))
    # active_history: a change knows the value it replaces even when it was not loaded (the
    # reports' rollup adds the difference: remedy/services/rollups.py).
    state: Mapped[str] = mapped_column(sa.String(16), default="open", active_history=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    pool_team: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    contact_level: Mapped[str | None] = mapped_column(sa.String(16))
    # The team whose day of contacts its personal contact counts in ('' before per-team counts).
    contact_team: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, active_history=True)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0, active_history=True)
    # The fix's part of the two above: it spends from the pool's fix line.
    fix_reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fix_committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # An actual cost above the reservation, waiting for finance's approval.
    requested_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The pool and caps versions it was reserved under (named again by its releases).
    pool_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class LedgerEntry(Base):
    """One append-only movement of a reservation's money (see remedy/ledger/entries.py)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    kind: Mapped[str] = mapped_column(sa.String(8))  # reserve | adjust | commit | release
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # The part of amount_minor on the pool's fix line (same sign; the rest is overdelivery).
    fix_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    contacts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    pool_team: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    decision_id: Mapped[str] = mapped_column(sa.String(32))
    reservation_id: Mapped[str] = mapped_column(sa.ForeignKey("reservations.id"), index=True)
    contact_level: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(24))  # accept, approve, fulfil, cancel, ...
    actor: Mapped[str] = mapped_column(sa.String(64))
    # The pool and caps versions whose limits this entry was checked against.
    pool_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    # Declared so a flush inserts a new reservation before the entries that refer to it.
    reservation: Mapped[Reservation] = relationship(lazy="raise")

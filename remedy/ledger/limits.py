"""The limits a reservation must fit: the team's pool, the customer's window, contact capacity.

Each state is a snapshot read under the ledger's locks (or, for recommendations, without them:
advisory only). `broken_limits` names every limit a new reservation would break, in words a
finance lead can act on; an empty list means it fits. The rules themselves are the `*_room` and
`*_fits` functions: the ledger explains them, the what-if replay (remedy/whatif/replay.py)
applies them to simulated balances, so both enforce one definition.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.ledger.pacing import Pace
from remedy.money import from_minor


@dataclass(frozen=True)
class PoolState:
    """A pool's period: its limit and what is reserved and committed against it."""

    team: str
    currency: str
    period_key: str
    limit_minor: int
    reserved_minor: int
    committed_minor: int

    @property
    def label(self) -> str:
        """How finance names the pool: 'emea/2026-11 (EUR)'."""
        return f"{self.team}/{self.period_key} ({self.currency})"

    @property
    def held_minor(self) -> int:
        """Reserved plus committed."""
        return self.reserved_minor + self.committed_minor

    @property
    def remaining_minor(self) -> int:
        """What may still be reserved (never below zero)."""
        return max(0, self.limit_minor - self.held_minor)


@dataclass(frozen=True)
class WindowState:
    """A customer's rolling window: what they got in the last `days` days, and its limit."""

    customer_id: str
    currency: str
    days: int
    limit_minor: int | None  # None: no window limit for this currency
    used_minor: int

    @property
    def remaining_minor(self) -> int | None:
        """What this customer may still receive, or None when unlimited."""
        return None if self.limit_minor is None else max(0, self.limit_minor - self.used_minor)


@dataclass(frozen=True)
class CapacityState:
    """Personal contacts of one level on one day: how many are taken, of how many."""

    level: str
    day: str
    capacity: int | None  # None: unlimited
    used: int

    @property
    def remaining(self) -> int | None:
        """Contacts still free today, or None when unlimited."""
        return None if self.capacity is None else max(0, self.capacity - self.used)


@dataclass(frozen=True)
class Headroom:
    """What is left for one decision right now: pool, customer window, contact capacity, pace."""

    pool: PoolState | None  # None: no pool for the team (nor a default one) in the currency
    window: WindowState
    capacities: dict[str, CapacityState]
    pace: Pace | None


def _money(minor: int, currency: str) -> str:
    """Format minor units as '12.50 EUR'."""
    return f"{from_minor(minor, currency)} {currency}"


def pool_room(pool: PoolState) -> int:
    """Return the most that may still be reserved in the pool (negative when overdrawn)."""
    return pool.limit_minor - pool.held_minor


def window_room(window: WindowState) -> int | None:
    """Return the most the customer may still receive in the window, or None when unlimited."""
    return None if window.limit_minor is None else window.limit_minor - window.used_minor


def money_room(pool: PoolState, window: WindowState) -> int:
    """Return the most one reservation may hold and still fit both the pool and the window."""
    room = pool_room(pool)
    customer = window_room(window)
    return room if customer is None else min(room, customer)


def pool_fits(amount_minor: int, pool: PoolState) -> bool:
    """Tell whether reserving `amount_minor` more keeps the pool within its limit."""
    return amount_minor <= pool_room(pool)


def window_fits(amount_minor: int, window: WindowState) -> bool:
    """Tell whether `amount_minor` more keeps the customer within the window's limit."""
    room = window_room(window)
    return room is None or amount_minor <= room


def capacity_fits(capacity: CapacityState) -> bool:
    """Tell whether one more contact of this level fits the day's capacity."""
    return capacity.capacity is None or capacity.used + 1 <= capacity.capacity


def pool_breach(amount_minor: int, pool: PoolState) -> str | None:
    """Say how reserving `amount_minor` would break the pool, or None if it fits."""
    if pool_fits(amount_minor, pool):
        return None
    c = pool.currency
    return (
        f"pool {pool.label}: {_money(amount_minor, c)} more would exceed the limit of "
        f"{_money(pool.limit_minor, c)} (reserved {_money(pool.reserved_minor, c)}, committed "
        f"{_money(pool.committed_minor, c)}, remaining {_money(pool.remaining_minor, c)})"
    )


def window_breach(amount_minor: int, window: WindowState) -> str | None:
    """Say how `amount_minor` more would break the customer's window, or None if it fits."""
    if window_fits(amount_minor, window):
        return None
    c = window.currency
    return (
        f"customer {window.customer_id}: {_money(amount_minor, c)} more would exceed the "
        f"{window.days}-day limit of {_money(window.limit_minor, c)} (already "
        f"{_money(window.used_minor, c)})"
    )


def capacity_breach(capacity: CapacityState) -> str | None:
    """Say why one more contact of this level today does not fit, or None if it does."""
    if capacity_fits(capacity):
        return None
    return (
        f"contact capacity {capacity.level} on {capacity.day}: {capacity.used} of "
        f"{capacity.capacity} contacts already taken"
    )


def broken_limits(
    amount_minor: int,
    pool: PoolState,
    window: WindowState,
    capacity: CapacityState | None,
) -> list[str]:
    """Return every limit that reserving `amount_minor` (and one contact) would break."""
    breaches = [pool_breach(amount_minor, pool), window_breach(amount_minor, window)]
    if capacity is not None:
        breaches.append(capacity_breach(capacity))
    return [b for b in breaches if b is not None]

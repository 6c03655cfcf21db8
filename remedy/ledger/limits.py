"""The limits a reservation must fit: the team's pool, the customer's window, contact capacity.

A pool may be split by finance into two lines: a *fix line* (what makes customers whole:
refunds, credits, redos) and an *overdelivery line* (gifts, upgrades, personal contact). A
plan's fix part must then fit the fix line and the rest the overdelivery line, and pacing
reads the overdelivery line only, so a large make-whole never prices down everyone else's
gifts. A pool without a split is one line for both, exactly as before the split existed.

Each state is a snapshot read under the ledger's locks (or, for recommendations, without them:
advisory only). `broken_limits` names every limit a new reservation would break, as facts
(codes with exact amounts) that the API says in the reader's language; an empty list means it
fits. The rules themselves are the `*_room` and
`*_fits` functions: the ledger explains them, the what-if replay (remedy/whatif/replay.py)
applies them to simulated balances, so both enforce one definition.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.facts import Fact, Level, Money, fact
from remedy.ledger.pacing import Pace, PacingSettings, pace
from remedy.money import from_minor

LINES = ("fix", "overdelivery")


@dataclass(frozen=True)
class LineState:
    """One line of a pool's period: its limit, its own spend, and what counts against it.

    On a split pool a line's limit is its own and only its own spend counts against it; on a
    pool of one line both lines read the pool's limit and the whole pool's spend (`shared`),
    while `reserved_minor` and `committed_minor` still say what this line's part spent.
    """

    line: str  # one of LINES
    pool: str  # the pool's label
    currency: str
    limit_minor: int
    reserved_minor: int
    committed_minor: int
    counted_minor: int  # what counts against `limit_minor`
    shared: bool

    @property
    def label(self) -> str:
        """How finance names the line: 'emea/2026-11 (EUR) fix line' ('... pool' if shared)."""
        return f"{self.pool} pool" if self.shared else f"{self.pool} {self.line} line"

    @property
    def held_minor(self) -> int:
        """This line's part: reserved plus committed."""
        return self.reserved_minor + self.committed_minor

    @property
    def room_minor(self) -> int:
        """What may still be reserved on the line (negative when overdrawn)."""
        return self.limit_minor - self.counted_minor

    @property
    def remaining_minor(self) -> int:
        """What may still be reserved on the line (never below zero)."""
        return max(0, self.room_minor)


@dataclass(frozen=True)
class PoolState:
    """A pool's period: its limit and what is reserved and committed against it, and when
    finance split it, the fix line's limit and the fix line's part of the spend."""

    team: str
    currency: str
    period_key: str
    limit_minor: int
    reserved_minor: int
    committed_minor: int
    fix_limit_minor: int | None = None  # None: one line for both
    fix_reserved_minor: int = 0
    fix_committed_minor: int = 0

    @property
    def label(self) -> str:
        """How finance names the pool: 'emea/2026-11 (EUR)'."""
        return f"{self.team}/{self.period_key} ({self.currency})"

    @property
    def split(self) -> bool:
        """Tell whether the pool has a fix line and an overdelivery line of their own."""
        return self.fix_limit_minor is not None

    @property
    def fix_line(self) -> LineState:
        """The fix line (the whole pool when it has one line)."""
        held = self.fix_reserved_minor + self.fix_committed_minor
        return LineState(
            "fix",
            self.label,
            self.currency,
            self.limit_minor if self.fix_limit_minor is None else self.fix_limit_minor,
            self.fix_reserved_minor,
            self.fix_committed_minor,
            self.held_minor if self.fix_limit_minor is None else held,
            not self.split,
        )

    @property
    def overdelivery_line(self) -> LineState:
        """The overdelivery line (the whole pool when it has one line): what pacing reads."""
        reserved = self.reserved_minor - self.fix_reserved_minor
        committed = self.committed_minor - self.fix_committed_minor
        if self.fix_limit_minor is None:
            return LineState(
                "overdelivery",
                self.label,
                self.currency,
                self.limit_minor,
                reserved,
                committed,
                self.held_minor,
                True,
            )
        return LineState(
            "overdelivery",
            self.label,
            self.currency,
            self.limit_minor - self.fix_limit_minor,
            reserved,
            committed,
            reserved + committed,
            False,
        )

    def line(self, name: str) -> LineState:
        """Return the line called `name` (one of LINES)."""
        return self.fix_line if name == "fix" else self.overdelivery_line

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
    """One team's personal contacts of one level on one day: how many are taken, of how many."""

    level: str
    day: str
    capacity: int | None  # None: unlimited
    used: int
    team: str = ""

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
    # The customer's earlier decisions with a plan given, when asked for (`PriorIncidents`).
    prior_incidents: int | None = None


def pool_pace(state: PoolState, elapsed_share: float, settings: PacingSettings) -> Pace:
    """Pacing's view of a pool: its overdelivery line (the whole pool when it has one line),
    so fix money spent making customers whole never prices down the gifts."""
    line = state.overdelivery_line
    return pace(line.counted_minor, line.limit_minor, elapsed_share, settings)


def _money(minor: int, currency: str) -> Money:
    """Minor units as exact money, for a fact."""
    return Money(from_minor(minor, currency), currency)


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


def pool_fits(amount_minor: int, pool: PoolState, fix_minor: int = 0) -> bool:
    """Tell whether reserving `amount_minor` more, `fix_minor` of it the fix's, keeps the pool
    within its limit (a split pool: each part within its line)."""
    if not pool.split:
        return amount_minor <= pool_room(pool)
    return fix_minor <= pool.fix_line.room_minor and (
        amount_minor - fix_minor <= pool.overdelivery_line.room_minor
    )


def fix_share(amount_minor: int, fix_minor: int) -> int:
    """The part of a plan's cost (`amount_minor`) the fix line carries: what its fix items
    cost (`fix_minor`), never below zero nor above the plan's whole cost. The ledger reserves
    with it and the what-if replay counts with it."""
    return max(0, min(fix_minor, amount_minor))


def line_parts(amount_minor: int, fix_minor: int) -> dict[str, int]:
    """Split an amount into what each line carries: {'fix': ..., 'overdelivery': ...}."""
    return {"fix": fix_minor, "overdelivery": amount_minor - fix_minor}


def window_fits(amount_minor: int, window: WindowState) -> bool:
    """Tell whether `amount_minor` more keeps the customer within the window's limit."""
    room = window_room(window)
    return room is None or amount_minor <= room


def capacity_fits(capacity: CapacityState) -> bool:
    """Tell whether one more contact of this level fits the day's capacity."""
    return capacity.capacity is None or capacity.used + 1 <= capacity.capacity


# A line's breach, by line: its fact code.
_LINE_BREACH = {"fix": "limit_fix_line", "overdelivery": "limit_overdelivery_line"}


def pool_breach(amount_minor: int, pool: PoolState, fix_minor: int = 0) -> list[Fact]:
    """Say, as facts, how reserving `amount_minor` (`fix_minor` of it the fix's) would break the
    pool or each of its lines; empty if it fits."""
    if pool_fits(amount_minor, pool, fix_minor):
        return []
    c = pool.currency
    if pool.split:
        return [
            fact(
                _LINE_BREACH[name],
                pool=pool.label,
                more=_money(part, c),
                limit=_money(line.limit_minor, c),
                reserved=_money(line.reserved_minor, c),
                committed=_money(line.committed_minor, c),
                remaining=_money(line.remaining_minor, c),
            )
            for name, part in line_parts(amount_minor, fix_minor).items()
            if part > (line := pool.line(name)).room_minor
        ]
    return [
        fact(
            "limit_pool",
            pool=pool.label,
            more=_money(amount_minor, c),
            limit=_money(pool.limit_minor, c),
            reserved=_money(pool.reserved_minor, c),
            committed=_money(pool.committed_minor, c),
            remaining=_money(pool.remaining_minor, c),
        )
    ]


def window_breach(amount_minor: int, window: WindowState) -> Fact | None:
    """Say how `amount_minor` more would break the customer's window, or None if it fits."""
    if window_fits(amount_minor, window):
        return None
    c = window.currency
    return fact(
        "limit_window",
        customer=window.customer_id,
        more=_money(amount_minor, c),
        days=window.days,
        limit=_money(window.limit_minor or 0, c),  # a window without a limit always fits
        used=_money(window.used_minor, c),
    )


def capacity_breach(capacity: CapacityState) -> Fact | None:
    """Say why one more contact of this level today does not fit, or None if it does."""
    if capacity_fits(capacity):
        return None
    return fact(
        "limit_capacity",
        level=Level(capacity.level),
        team=capacity.team,
        day=capacity.day,
        used=capacity.used,
        capacity=capacity.capacity or 0,
    )


def broken_limits(
    amount_minor: int,
    pool: PoolState,
    window: WindowState,
    capacity: CapacityState | None,
    fix_minor: int = 0,
) -> list[Fact]:
    """Return every limit that reserving `amount_minor` (`fix_minor` of it the fix's, and one
    contact) would break, as facts the presenter says in the reader's language."""
    breaches = [*pool_breach(amount_minor, pool, fix_minor), window_breach(amount_minor, window)]
    if capacity is not None:
        breaches.append(capacity_breach(capacity))
    return [b for b in breaches if b is not None]

"""The limit rules with their figures written out: room left, what fits at the edge, and the
words each breach uses (benchmarks/mutation.sh runs mutmut against these)."""

from __future__ import annotations

from decimal import Decimal

from remedy.facts import Level, Money, fact
from remedy.ledger.limits import (
    CapacityState,
    PoolState,
    WindowState,
    broken_limits,
    capacity_breach,
    capacity_fits,
    money_room,
    pool_breach,
    pool_fits,
    pool_room,
    window_breach,
    window_fits,
    window_room,
)

POOL = PoolState("emea", "EUR", "2026-11", 10_000, 3_000, 2_000)  # 100.00, 30 + 20 held
WINDOW = WindowState("c-42", "EUR", 90, 8_000, 4_500)  # 80.00, 45.00 used
OPEN_WINDOW = WindowState("c-42", "EUR", 90, None, 4_500)


def test_room_is_the_limit_minus_what_is_held():
    assert POOL.label == "emea/2026-11 (EUR)"
    assert (POOL.held_minor, POOL.remaining_minor, pool_room(POOL)) == (5_000, 5_000, 5_000)
    overdrawn = PoolState("emea", "EUR", "2026-11", 1_000, 900, 300)
    assert (pool_room(overdrawn), overdrawn.remaining_minor) == (-200, 0)
    assert (window_room(WINDOW), WINDOW.remaining_minor) == (3_500, 3_500)
    assert window_room(OPEN_WINDOW) is None and OPEN_WINDOW.remaining_minor is None
    assert money_room(POOL, WINDOW) == 3_500
    assert money_room(POOL, OPEN_WINDOW) == 5_000
    assert money_room(PoolState("x", "EUR", "2026-11", 3_000, 0, 0), WINDOW) == 3_000


def test_an_amount_fits_up_to_the_last_minor_unit():
    assert pool_fits(5_000, POOL) and not pool_fits(5_001, POOL)
    assert window_fits(3_500, WINDOW) and not window_fits(3_501, WINDOW)
    assert window_fits(10**9, OPEN_WINDOW)


def test_the_last_contact_of_the_day_fits_and_the_next_does_not():
    assert capacity_fits(CapacityState("manager", "2026-11-28", 3, 2))
    assert not capacity_fits(CapacityState("manager", "2026-11-28", 3, 3))
    assert not capacity_fits(CapacityState("manager", "2026-11-28", 0, 0))
    assert capacity_fits(CapacityState("manager", "2026-11-28", None, 10**6))
    full = CapacityState("manager", "2026-11-28", 3, 3)
    assert (full.remaining, CapacityState("manager", "d", 3, 5).remaining) == (0, 0)
    assert CapacityState("manager", "d", None, 5).remaining is None


def test_each_breach_as_a_fact_with_its_exact_figures():
    """A breach is data (a code and exact amounts); the API says it in the reader's language."""

    def eur(text: str) -> Money:
        return Money(Decimal(text), "EUR")

    assert pool_breach(5_000, POOL) == []
    assert pool_breach(5_001, POOL) == [
        fact(
            "limit_pool",
            pool="emea/2026-11 (EUR)",
            more=eur("50.01"),
            limit=eur("100.00"),
            reserved=eur("30.00"),
            committed=eur("20.00"),
            remaining=eur("50.00"),
        )
    ]
    assert window_breach(3_500, WINDOW) is None
    assert window_breach(3_501, WINDOW) == fact(
        "limit_window",
        customer="c-42",
        more=eur("35.01"),
        days=90,
        limit=eur("80.00"),
        used=eur("45.00"),
    )
    full = CapacityState("executive", "2026-11-28", 5, 5, "emea")
    assert capacity_breach(full) == fact(
        "limit_capacity",
        level=Level("executive"),
        team="emea",
        day="2026-11-28",
        used=5,
        capacity=5,
    )
    assert capacity_breach(CapacityState("executive", "2026-11-28", 5, 4)) is None
    assert broken_limits(6_000, POOL, WINDOW, full) == [
        *pool_breach(6_000, POOL),
        window_breach(6_000, WINDOW),
        capacity_breach(full),
    ]
    assert broken_limits(100, POOL, WINDOW, None) == []
    assert broken_limits(4_000, POOL, WINDOW, None) == [window_breach(4_000, WINDOW)]

"""The limit predicates agree with the explanations the ledger gives (one rule, two uses)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.ledger.limits import (
    CapacityState,
    PoolState,
    WindowState,
    broken_limits,
    capacity_fits,
    money_room,
    pool_fits,
    window_fits,
)

MINOR = st.integers(0, 300)


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    amount=MINOR,
    pool=st.builds(
        PoolState, st.just("emea"), st.just("EUR"), st.just("2026-11"), MINOR, MINOR, MINOR
    ),
    window=st.builds(
        WindowState, st.just("c1"), st.just("EUR"), st.just(90), st.none() | MINOR, MINOR
    ),
    capacity=st.none()
    | st.builds(
        CapacityState,
        st.just("manager"),
        st.just("2026-11-02"),
        st.none() | st.integers(0, 3),
        st.integers(0, 4),
    ),
)
def test_fits_is_no_broken_limit(amount, pool, window, capacity):
    """The replay's test (money room, then capacity) and the reservation's always agree."""
    replay = amount <= money_room(pool, window) and (capacity is None or capacity_fits(capacity))
    assert replay == (not broken_limits(amount, pool, window, capacity))
    assert (amount <= money_room(pool, window)) == (
        pool_fits(amount, pool) and window_fits(amount, window)
    )

"""The in-process rate-limit counters: fixed windows that expire without background threads."""

from __future__ import annotations

import threading

import pytest
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from remedy.api import ratelimit
from remedy.api.ratelimit import WorkerCounters


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the counters."""
    now = [1000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def test_counts_within_a_window_and_starts_over_after_it(clock):
    """Hits add up until the window's expiry; then the count starts again at the new hit."""
    counters = WorkerCounters()
    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("k") == 3
    assert counters.get_expiry("k") == 1060.0
    clock[0] += 59.9
    assert counters.incr("k", 60) == 4
    clock[0] += 0.1
    assert counters.get("k") == 0
    assert counters.incr("k", 60) == 1
    assert counters.get_expiry("k") == clock[0] + 60


def test_expired_keys_are_swept_and_keys_can_be_cleared(clock):
    """Memory stays bounded by live keys; clear and reset forget counters."""
    counters = WorkerCounters()
    for n in range(100):
        counters.incr(f"k{n}", 1)
    clock[0] += 2
    counters.incr("fresh", 1)
    assert set(counters._counts) == {"fresh"}
    counters.incr("other", 10)
    counters.clear("fresh")
    assert counters.get("fresh") == 0 and counters.get("other") == 1
    assert counters.reset() == 1 and counters.get("other") == 0
    assert counters.check()


def test_limits_with_the_fixed_window_strategy_without_starting_threads():
    """Served through `limits` as the app uses it: the limit holds, and no thread is started."""
    storage = storage_from_string("remedy-memory://")
    assert isinstance(storage, WorkerCounters)
    limiter = FixedWindowRateLimiter(storage)
    item = RateLimitItemPerSecond(3, 60)
    before = threading.active_count()
    answers = [limiter.hit(item, "key") for _ in range(5)]
    assert answers == [True, True, True, False, False]
    assert threading.active_count() == before


def test_memory_uri_means_the_worker_counters():
    """The configured `memory://` (and nothing) select these counters; others pass through."""
    assert ratelimit._storage_uri("memory://") == "remedy-memory://"
    assert ratelimit._storage_uri(None) == "remedy-memory://"
    assert ratelimit._storage_uri("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"

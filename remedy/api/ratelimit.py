"""Per-key rate limits (the `limits` package): in memory by default, Redis when configured.

Limits count per principal: the API key the bearer token resolves to (its prefix), looked up
once per request and reused by authentication, so `Bearer  K`, `bearer K` and `BEARER K` share
one budget. Calls without a valid key are limited per client address. Each route has its own
count (as Flask-Limiter's default limits had). Health, readiness, the API docs and the
console's page shells are exempt. Over the limit a caller gets 429 in the usual error envelope
with `Retry-After`. The limit is written in Flask-Limiter's syntax (`3000/minute`, several
separated by `;`).

`KeyLimiter` is one before-request hook over `limits`' fixed-window strategy: Flask-Limiter
resolved, filtered and sorted its limits and built per-request context objects on every
request, ~0.4 ms of a 2 ms `GET /v1/whoami` profiled (benchmarks/README.md, issue 26); here the
parsed limits are kept and each request costs one counter increment per limit. Counters are
stored under the same keys Flask-Limiter used (`LIMITER/<caller>/<route>/...`).

In memory, counters live in `WorkerCounters` rather than the `limits` package's own memory
storage: that one starts a timer thread to expire keys whenever its last timer has finished,
which under steady traffic is once per request; profiled under load, starting those threads
took ~10% of a worker's time (benchmarks/README.md). Here a counter expires when it is next
read, and expired keys are swept at most once per second.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, g, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from remedy.api.auth import resolve_principal
from remedy.extensions import is_public


class WorkerCounters(Storage):
    """Fixed-window counters in this process, expired lazily (no background threads).

    Registered for `remedy-memory://` (the default); each worker counts its own requests, so
    with N workers a key gets up to N times the limit: use Redis to share one count.
    """

    STORAGE_SCHEME = ["remedy-memory"]
    SWEEP_EVERY = 1.0  # seconds between sweeps of expired keys

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: object):
        """Start empty."""
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        """Errors this storage may raise."""
        return ValueError

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._counts.get(key)
        if entry is not None and entry[1] <= now:
            del self._counts[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_EVERY
        for key in [k for k, (_, expires) in self._counts.items() if expires <= now]:
            del self._counts[key]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount`; a new window starts `expiry` seconds from its first hit."""
        now = time.time()
        with self._lock:
            self._sweep(now)
            entry = self._live(key, now)
            count, expires = entry if entry is not None else (0, now + expiry)
            self._counts[key] = (count + amount, expires)
            return count + amount

    def get(self, key: str) -> int:
        """The count in the current window (0 when none)."""
        with self._lock:
            entry = self._live(key, time.time())
            return entry[0] if entry is not None else 0

    def get_expiry(self, key: str) -> float:
        """When the current window ends (now when there is none)."""
        now = time.time()
        with self._lock:
            entry = self._live(key, now)
            return entry[1] if entry is not None else now

    def check(self) -> bool:
        """Always healthy: it is a dict."""
        return True

    def reset(self) -> int | None:
        """Forget every counter; return how many there were."""
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
            return count

    def clear(self, key: str) -> None:
        """Forget one counter."""
        with self._lock:
            self._counts.pop(key, None)


def rate_key() -> str:
    """Identify the caller: its API key's prefix, else (no valid key) its address."""
    principal = resolve_principal()
    if principal is not None:
        return "key:" + principal.prefix
    return "ip:" + (request.remote_addr or "127.0.0.1")


class KeyLimiter:
    """The configured limits, counted per caller and route in one storage."""

    def __init__(self, limits: str, storage_uri: str) -> None:
        """Parse `limits` once (Flask-Limiter's syntax) and open the storage."""
        self.items: list[RateLimitItem] = sorted(parse_many(limits))
        self.strategy = FixedWindowRateLimiter(storage_from_string(storage_uri))

    def check(self) -> None:
        """Count this request against every limit; raise 429 on the first one exceeded."""
        endpoint = request.endpoint
        if not endpoint or endpoint.rpartition(".")[2] == "static" or is_public(endpoint):
            return
        caller = rate_key()
        for item in self.items:
            if not self.strategy.hit(item, caller, endpoint):
                g.rate_limited = (item, caller, endpoint)
                raise TooManyRequests(str(item))

    def reset_at(self) -> float | None:
        """When the window this request exceeded ends (None when it exceeded none)."""
        exceeded = g.get("rate_limited")
        if exceeded is None:
            return None
        item, caller, endpoint = exceeded
        return self.strategy.get_window_stats(item, caller, endpoint).reset_time


def init_app(app: Flask) -> None:
    """Install the limiter when a limit is configured (an empty limit turns it off)."""
    limit = app.config.get("RATE_LIMIT") or ""
    if not limit:
        return
    limiter = KeyLimiter(limit, _storage_uri(app.config.get("RATE_LIMIT_STORAGE_URI")))
    app.before_request(limiter.check)
    app.extensions["remedy.limiter"] = limiter


def _storage_uri(configured: str | None) -> str:
    """`memory://` (or nothing) means this process's `WorkerCounters`; others as given."""
    if not configured or configured == "memory://":
        return "remedy-memory://"
    return configured


def retry_after(app: Flask) -> int:
    """Seconds until the caller's current window resets (at least 1)."""
    limiter: KeyLimiter | None = app.extensions.get("remedy.limiter")
    reset_at = limiter.reset_at() if limiter else None
    if reset_at is None:
        return 1
    return max(1, int(reset_at - time.time()) + 1)

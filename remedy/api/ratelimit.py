"""Per-key rate limits (Flask-Limiter): in memory by default, Redis when configured.

Limits count per principal: the API key the bearer token resolves to (its prefix), looked up
once per request and reused by authentication, so `Bearer  K`, `bearer K` and `BEARER K` share
one budget. Calls without a valid key are limited per client address. Health, readiness, the
API docs and the console's page shells are exempt. Over the limit a caller gets 429 in the
usual error envelope with `Retry-After`.

In memory, counters live in `WorkerCounters` rather than the `limits` package's own memory
storage: that one starts a timer thread to expire keys whenever its last timer has finished,
which under steady traffic is once per request; profiled under load, starting those threads
took ~10% of a worker's time (benchmarks/README.md). Here a counter expires when it is next
read, and expired keys are swept at most once per second.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage

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
    return "key:" + principal.prefix if principal is not None else "ip:" + get_remote_address()


def init_app(app: Flask) -> None:
    """Install the limiter when a limit is configured (an empty limit turns it off)."""
    limit = app.config.get("RATE_LIMIT") or ""
    if not limit:
        return
    limiter = Limiter(
        key_func=rate_key,
        app=app,
        default_limits=[limit],
        default_limits_exempt_when=lambda: is_public(request.endpoint),
        storage_uri=_storage_uri(app.config.get("RATE_LIMIT_STORAGE_URI")),
        # Only 429s carry Retry-After (set by the error handler); other answers stay clean.
        headers_enabled=False,
        strategy="fixed-window",
    )
    app.extensions["remedy.limiter"] = limiter


def _storage_uri(configured: str | None) -> str:
    """`memory://` (or nothing) means this process's `WorkerCounters`; others as given."""
    if not configured or configured == "memory://":
        return "remedy-memory://"
    return configured


def retry_after(app: Flask) -> int:
    """Seconds until the caller's current window resets (at least 1)."""
    limiter: Limiter | None = app.extensions.get("remedy.limiter")
    window = limiter.current_limit if limiter else None
    if window is None:
        return 1
    return max(1, int(window.reset_at - time.time()) + 1)

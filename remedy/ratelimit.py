"""Per-key rate limits (Flask-Limiter): in memory by default, Redis when configured.

The key is a hash of the bearer token, so limits apply per API key without a database lookup
(calls without a key are limited per client address). Health, readiness, the API docs and the
console's page shells are exempt. Over the limit a caller gets 429 in the usual error envelope
with `Retry-After`.
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from remedy.console import PUBLIC_ENDPOINTS as CONSOLE_ENDPOINTS

_EXEMPT = {
    "health.Health",
    "health.Ready",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "swagger_static",
    *CONSOLE_ENDPOINTS,
}


def rate_key() -> str:
    """Identify the caller: its API key (hashed), else its address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "key:" + hashlib.sha256(header.encode("utf-8")).hexdigest()[:32]
    return "ip:" + get_remote_address()


def init_app(app: Flask) -> None:
    """Install the limiter when a limit is configured (an empty limit turns it off)."""
    limit = app.config.get("RATE_LIMIT") or ""
    if not limit:
        return
    limiter = Limiter(
        key_func=rate_key,
        app=app,
        default_limits=[limit],
        default_limits_exempt_when=lambda: request.endpoint in _EXEMPT,
        storage_uri=app.config.get("RATE_LIMIT_STORAGE_URI") or "memory://",
        # Only 429s carry Retry-After (set by the error handler); other answers stay clean.
        headers_enabled=False,
        strategy="fixed-window",
    )
    app.extensions["remedy.limiter"] = limiter


def retry_after(app: Flask) -> int:
    """Seconds until the caller's current window resets (at least 1)."""
    limiter: Limiter | None = app.extensions.get("remedy.limiter")
    window = limiter.current_limit if limiter else None
    if window is None:
        return 1
    return max(1, int(window.reset_at - time.time()) + 1)

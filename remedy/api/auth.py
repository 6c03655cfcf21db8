"""Bearer API keys on every route but health, the API docs and the console's page shells; roles
checked per view."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, request
from werkzeug.exceptions import UnsupportedMediaType

from remedy.errors import Forbidden, Unauthorized
from remedy.extensions import bulk_limit, is_keyless, is_public, mark_public, session
from remedy.observability import metrics_response
from remedy.services import app_services
from remedy.services.keys import KeyService, Principal

# Served without a key: health, the API docs (the console marks its page shells itself).
PUBLIC_ENDPOINTS = (
    "health.Health",
    "health.Ready",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "swagger_static",
    "static",
)

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    """Return the authenticated caller of this request."""
    return g.principal


def bearer_token() -> str | None:
    """Return the bearer token of this request ('Bearer' in any case, spaces trimmed), if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def resolve_principal() -> Principal | None:
    """Return the principal of this request's key (looked up once), or None for no valid key.

    The rate limiter calls it before `authenticate`, so limits count per key, not per header
    text."""
    if "principal_resolved" not in g:
        token = bearer_token()
        cache = app_services.principals()
        principal = KeyService(session()).authenticate(token, cache) if token else None
        if principal is not None:
            g.principal = principal
        g.principal_resolved = True
    return g.get("principal")


def authenticate() -> None:
    """Resolve the bearer key before any non-public view runs."""
    if request.endpoint is None or is_keyless(request.endpoint):
        return
    if bearer_token() is None:
        raise Unauthorized("A valid API key is required: send 'Authorization: Bearer <key>'.")
    if resolve_principal() is None:
        raise Unauthorized("The API key is unknown or revoked.")


def roles(*allowed: str, unscoped: bool = False) -> Callable[[F], F]:
    """Allow a view to callers with one of `allowed` roles (admin always passes); with
    `unscoped`, only to keys without a team scope (the view changes what every team shares:
    the catalog, rules and caps, the model in use).

    The wrapper keeps the policy (`allowed_roles`, `unscoped_only`) for the access matrix test
    (tests/api/test_access_matrix.py), which refuses a route without one."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if not principal.has_role(*allowed):
                raise Forbidden(
                    f"role {principal.role!r} may not do this; needs one of {', '.join(allowed)}"
                )
            if unscoped:
                principal.require_unscoped()
            return view(*args, **kwargs)

        # The OpenAPI description of the operation says who may call it.
        wrapper.__doc__ = f"{inspect.cleandoc(view.__doc__ or '')}\n\n{roles_note(allowed)}"
        wrapper.allowed_roles = allowed  # type: ignore[attr-defined]
        wrapper.unscoped_only = unscoped  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def roles_note(allowed: tuple[str, ...]) -> str:
    """Say in words which roles may call an operation (for the OpenAPI description)."""
    also = " and lead (what an agent may)" if "agent" in allowed and "lead" not in allowed else ""
    return f"Roles: {', '.join(allowed)}{also}; admin may do everything."


# What a bulk endpoint (extensions.mark_bulk) may take besides JSON.
BULK_TYPES = ("text/csv", "multipart/form-data")


def require_json() -> None:
    """Refuse bodies that are not JSON on writing methods (415), before parsing."""
    if request.method in ("POST", "PUT", "PATCH") and not is_public(request.endpoint):
        if not request.content_length and "Transfer-Encoding" not in request.headers:
            return  # no body at all (e.g. POST .../revoke)
        if bulk_limit(request.endpoint) is not None and request.mimetype in BULK_TYPES:
            return  # a bulk endpoint reads its CSV or multipart body itself
        if not request.is_json:
            error = UnsupportedMediaType("Send the body as application/json.")
            error.data = {"errors": {"Content-Type": ["must be application/json"]}}
            raise error  # rendered in the envelope by RemedyApi


def register_auth(app: Flask) -> None:
    """Install the authentication and content-type checks."""
    mark_public(app, *PUBLIC_ENDPOINTS)
    # Metrics show spend by every team's pool: scrape them with an unscoped admin key
    # (Prometheus' bearer_token).
    app.add_url_rule("/metrics", "metrics", roles("admin", unscoped=True)(metrics_response))
    app.before_request(authenticate)
    app.before_request(require_json)

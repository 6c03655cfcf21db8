"""Domain errors. Services raise these; the API maps each to one HTTP status and one envelope:

{"code": 409, "status": "Conflict", "message": "...", "errors": {"field": ["..."]}}
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller can act on; `status` is the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        """Keep the message and the per-field errors."""
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """Input that parsed but makes no sense here (e.g. a currency without caps)."""

    status = 422


class NotFound(DomainError):
    """The resource does not exist (or the caller may not know it does)."""

    status = 404


class Conflict(DomainError):
    """The request clashes with the current state."""

    status = 409


class Unauthorized(DomainError):
    """No valid API key."""

    status = 401


class Forbidden(DomainError):
    """The key's role may not do this."""

    status = 403


class ServiceUnavailable(DomainError):
    """A dependency (the database) is down; retry later."""

    status = 503

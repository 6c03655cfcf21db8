"""Domain errors: what went wrong in words and data a caller can act on, never an HTTP status.

Services raise these; `remedy/api/errors.py` alone maps each kind to its HTTP status and the one
envelope `{"code", "status", "message", "errors": {"field": ["..."]}}`.
"""

from __future__ import annotations

from remedy.facts import Fact


class DomainError(Exception):
    """Base of every error a caller can act on: a message and the per-field errors."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        """Keep the message and the per-field errors."""
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """Input that parsed but makes no sense here (e.g. a currency without caps)."""


class NotFound(DomainError):
    """The resource does not exist (or the caller may not know it does)."""


class Conflict(DomainError):
    """The request clashes with the current state."""


class LimitsExceeded(Conflict):
    """Money or contacts would go past a limit: `what` ("plan" or "overage") does not fit, and
    `limits` holds each limit it would break as a fact (code and exact amounts). The API says
    them in the reader's language (`errors.limit`) beside the facts themselves (`facts.limit`)."""

    def __init__(self, what: str, limits: list[Fact]) -> None:
        """Name what does not fit and every limit it would break."""
        codes = ", ".join(limit.code for limit in limits)
        super().__init__(f"the {what} does not fit: {codes}", {"limit": [codes]})
        self.what = what
        self.limits = limits


class Unauthorized(DomainError):
    """No valid API key."""


class Forbidden(DomainError):
    """The key's role or team may not do this."""


class ServiceUnavailable(DomainError):
    """A dependency (the database) is down; retry later."""


class TooManyRequests(DomainError):
    """The caller has as much work waiting as it may; `retry_after` says when to try again."""

    def __init__(
        self, message: str, errors: dict[str, list[str]] | None = None, retry_after: int = 30
    ) -> None:
        """Keep the message, the fields and the seconds to wait."""
        super().__init__(message, errors)
        self.retry_after = retry_after

"""The calling key, as GET /v1/whoami says it."""

from __future__ import annotations

from typing import TypedDict


class WhoAmI(TypedDict):
    """The calling key: prefix, role and team scope."""

    prefix: str
    role: str
    team: str | None
    expires_at: str | None  # a panel session's key: when it stops working

"""A seeded month for the partitioned what-if's tests, and its request."""

from __future__ import annotations

from typing import Any

from benchmarks.whatif import END, START, log_decisions
from tests.factories import default_document


def seed_month(app, decisions: int) -> None:  # type: ignore[no-untyped-def]
    """`decisions` logged decisions over October 2026 (four teams, a `default` pool per
    currency), as benchmarks/whatif.py logs them."""
    log_decisions(app, decisions)


def request() -> dict[str, Any]:
    """A what-if whose balances carry across partitions: a proposed EUR pool that runs out
    mid-month, one manager's call a day and a stricter cap."""
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1.5"
    caps["contact_capacity"] = {"manager": 1, "executive": 1, "leader": 1}
    return {
        "from": START.date().isoformat(),
        "to": END.date().isoformat(),
        "caps": caps,
        "pools": [{"team": "default", "currency": "EUR", "period": "month", "limit": "1500.00"}],
    }

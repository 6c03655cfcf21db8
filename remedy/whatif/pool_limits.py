"""A what-if's pool limits: the pools in effect now, and the proposed ones checked as the pools
API checks them (one limit, or a fix line and an overdelivery line), each error named
`pools.<index>.<field>`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.errors import InvalidInput
from remedy.ledger.pools import pool_errors
from remedy.money import from_minor
from remedy.store.tables import BudgetPool, Decision, utcnow
from remedy.whatif.replay import (
    PoolLimit,
    PoolLimits,
)

# A proposed pool's amounts, as the pools API names them.
AMOUNTS = ("limit", "fix_limit", "overdelivery_limit")


def _amount(value: Any) -> Decimal | None:
    """A proposed pool's amount (a Decimal from the API, a string from a job's parameters)."""
    return None if value is None else Decimal(str(value))


def current_limits(session: Session) -> PoolLimits:
    """Return the pool versions in effect now, per team and currency."""
    rows = session.scalars(
        sa.select(BudgetPool)
        .where(BudgetPool.effective_at <= utcnow())
        .order_by(BudgetPool.version)
    )
    return {
        (p.team, p.currency): PoolLimit(
            p.period,
            from_minor(p.limit_minor, p.currency),
            None if p.fix_limit_minor is None else from_minor(p.fix_limit_minor, p.currency),
        )
        for p in rows
    }


def proposed_limits(session: Session, pools: list[dict[str, Any]]) -> PoolLimits:
    """The proposed pools as limits, checked as the pools API checks them; every proposed team
    must be known (have decisions or a pool)."""
    known = set(session.scalars(sa.select(Decision.team).distinct()))
    known |= set(session.scalars(sa.select(BudgetPool.team).distinct()))
    known.add("default")
    unknown = sorted({p["team"] for p in pools} - known)
    if unknown:
        raise InvalidInput(
            f"unknown team(s): {', '.join(unknown)}",
            {"pools.team": [f"no decisions and no pool for {t}" for t in unknown]},
        )
    # The pools API's own validation (one limit, or a fix and an overdelivery line whose
    # sum a limit given beside them must equal), each error named pools.<index>.<field>.
    errors: dict[str, list[str]] = {}
    limits: PoolLimits = {}
    for index, pool in enumerate(pools):
        amounts = {name: _amount(pool.get(name)) for name in AMOUNTS}
        found = pool_errors(
            pool["period"],
            amounts["limit"],
            pool["currency"],
            amounts["fix_limit"],
            amounts["overdelivery_limit"],
        )
        for name, messages in found.items():
            errors[f"pools.{index}.{name}"] = messages
        if found:
            continue
        fix, rest = amounts["fix_limit"], amounts["overdelivery_limit"]
        split = fix is not None and rest is not None
        limit = fix + rest if split else amounts["limit"]  # type: ignore[operator]
        limits[(pool["team"], pool["currency"])] = PoolLimit(
            pool["period"],
            limit,
            fix if split else None,  # type: ignore[arg-type]
        )
    if errors:
        raise InvalidInput("Invalid fields: " + ", ".join(sorted(errors)), errors)
    return limits

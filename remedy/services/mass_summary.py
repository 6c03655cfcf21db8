"""Where a mass incident stands: customers by state, per currency the chosen plans' total (fix
and overdelivery) against what the pool has left now, chunks and progress.

Read only (a GET never writes); the states are those of remedy/services/mass_incidents.py.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.approvals import Approver
from remedy.ledger.budgets import BudgetService, pool_state
from remedy.ledger.periods import period_at
from remedy.money import from_minor
from remedy.services.mass_states import (
    CUSTOMER_STATES,
    DECIDED,
    DECIDING,
    PENDING,
    READY,
    REFUSED,
    RESERVED,
)
from remedy.store.tables import (
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
    PoolCounter,
    utcnow,
)


def summarise(session: Session, mass: MassIncident, now: datetime | None = None) -> dict[str, Any]:
    """Where the mass incident stands: customers by state, totals per currency against
    the pool's headroom now, chunks and progress (read only)."""
    now = now or utcnow()
    counts = dict.fromkeys(CUSTOMER_STATES, 0)
    totals: dict[str, dict[str, Any]] = {}
    rows = session.execute(
        sa.select(
            MassIncidentCustomer.currency,
            MassIncidentCustomer.state,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(MassIncidentCustomer.cost_minor), 0),
            sa.func.coalesce(sa.func.sum(MassIncidentCustomer.fix_minor), 0),
        )
        .where(MassIncidentCustomer.mass_incident_id == mass.id)
        .group_by(MassIncidentCustomer.currency, MassIncidentCustomer.state)
    ).all()
    for currency, state, count, cost, fix in rows:
        counts[state] = counts.get(state, 0) + count
        total = totals.setdefault(
            currency, {"customers": 0, "planned": 0, "fix": 0, "reserved": 0, "refused": 0}
        )
        total["customers"] += count
        if state in (DECIDED, RESERVED, REFUSED):
            total["planned"] += int(cost)
            total["fix"] += int(fix)
        if state == RESERVED:
            total["reserved"] += int(cost)
        if state == REFUSED:
            total["refused"] += count
    chunks = dict(
        session.execute(
            sa.select(MassIncidentChunk.state, sa.func.count())
            .where(MassIncidentChunk.mass_incident_id == mass.id)
            .group_by(MassIncidentChunk.state)
        ).all()
    )
    refusal = session.scalar(
        sa.select(MassIncidentChunk.reason)
        .where(
            MassIncidentChunk.mass_incident_id == mass.id,
            MassIncidentChunk.state == REFUSED,
        )
        .order_by(MassIncidentChunk.chunk)
        .limit(1)
    )
    approvers = Counter(
        dict(
            session.execute(
                sa.select(MassIncidentCustomer.approver, sa.func.count())
                .where(MassIncidentCustomer.mass_incident_id == mass.id)
                .group_by(MassIncidentCustomer.approver)
            ).all()
        )
    )
    chunk_total = sum(chunks.values())
    if mass.status in (DECIDING, READY):  # customers decided, then chunks reserved
        progress = {"done": mass.customers - counts[PENDING], "total": mass.customers}
    else:
        done = chunk_total - chunks.get(PENDING, 0)
        progress = {"done": done, "total": chunk_total}
    return {
        "counts": counts,
        "totals": [
            _total(session, mass.team, currency, total, now)
            for currency, total in sorted(totals.items())
        ],
        "chunks": {
            "total": chunk_total,
            "pending": chunks.get(PENDING, 0),
            "reserved": chunks.get(RESERVED, 0),
            "refused": chunks.get(REFUSED, 0),
            "size": mass.chunk_size,
        },
        "refusal": refusal,
        "needs_approval_by": {
            "none": approvers.get(None, 0),
            "lead": approvers.get(Approver.LEAD.value, 0),
            "finance": approvers.get(Approver.FINANCE.value, 0),
        },
        "progress": progress,
    }


def _total(
    session: Session, team: str, currency: str, total: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """One currency's total against what its pool has left now."""
    budgets = BudgetService(session)
    pool = budgets.resolve_pool(team, currency, now)
    planned, fix = total["planned"], total["fix"]
    money = {
        "currency": currency,
        "customers": total["customers"],
        "refused": total["refused"],
        "planned": str(from_minor(planned, currency)),
        "fix": str(from_minor(fix, currency)),
        "overdelivery": str(from_minor(planned - fix, currency)),
        "reserved": str(from_minor(total["reserved"], currency)),
        "to_reserve": str(from_minor(planned - total["reserved"], currency)),
        "pool": None,
    }
    if pool is None:
        return money
    period = period_at(pool.period, now)
    counter = session.get(PoolCounter, (pool.team, currency, period.key))
    state = pool_state(pool, period, counter)
    left = planned - total["reserved"]
    money["pool"] = {
        "team": pool.team,
        "period": period.key,
        "limit": str(from_minor(state.limit_minor, currency)),
        "remaining": str(from_minor(state.remaining_minor, currency)),
        "split": state.split,
        "fix_remaining": (
            str(from_minor(state.fix_line.remaining_minor, currency)) if state.split else None
        ),
        "overdelivery_remaining": (
            str(from_minor(state.overdelivery_line.remaining_minor, currency))
            if state.split
            else None
        ),
        "fits": left <= state.remaining_minor,
    }
    return money

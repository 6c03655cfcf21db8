"""Turn stored decisions into response bodies (one shape for POST and GET)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from remedy.store.models import Decision


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _plan(rank: int, candidate: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """Render one shown plan."""
    presentation = decision.presentation[candidate["plan_id"]]
    return {
        "plan_id": candidate["plan_id"],
        "rank": rank,
        "actions": [
            {"item_id": item_id, **decision.priced_items[item_id]} for item_id in candidate["items"]
        ],
        "currency": decision.currency,
        "total_cost": candidate["total_cost"],
        "total_value": candidate["total_value"],
        "expected_net_value": candidate["expected_net_value"],
        "p_stay": candidate["p_stay"],
        "expected_referrals": candidate["referrals"],
        "requires_approval": candidate["requires_approval"],
        "reasons": presentation["reasons"],
        "rules": decision.fired_rules,
        "talking_points": presentation["talking_points"],
    }


def decision_body(decision: Decision) -> dict[str, Any]:
    """Render a decision: the plans shown (in the order shown), the cap and the versions."""
    rank = {c["plan_id"]: i for i, c in enumerate(decision.candidates)}
    best_shown_rank = min((rank[p] for p in decision.shown), default=len(decision.candidates))
    dropped = [
        {
            "plan_id": c["plan_id"],
            "total_cost": c["total_cost"],
            "expected_net_value": c["expected_net_value"],
            "reason": c["dropped_reason"],
        }
        for c in decision.candidates[:best_shown_rank]
        if c["dropped_reason"] is not None
    ][: max(3, len(decision.shown))]
    return {
        "decision_id": decision.id,
        "created_at": as_utc(decision.created_at),
        "status": decision.status,
        "incident": decision.incident,
        "team": decision.team,
        "currency": decision.currency,
        "plans": [
            _plan(rank[plan_id], decision.candidates[rank[plan_id]], decision)
            for plan_id in decision.shown
        ],
        "dropped": dropped,
        "candidates_considered": len(decision.candidates),
        "caps": decision.cap,
        "fired_rules": decision.fired_rules,
        "excluded_items": decision.excluded_items,
        "notes": decision.notes,
        "versions": {
            "catalog": str(decision.catalog_version),
            "rules": str(decision.rules_version),
            "caps": str(decision.caps_version),
            "model": decision.model_version,
        },
        "propensity": decision.propensity,
    }

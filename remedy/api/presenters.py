"""Turn stored decisions into response bodies (one shape for POST and GET)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from remedy.money import from_minor
from remedy.store.models import Candidate, Decision


def _plan(candidate: Candidate, decision: Decision) -> dict[str, Any]:
    """Render one shown plan."""
    currency = decision.currency
    return {
        "plan_id": candidate.plan_id,
        "rank": candidate.rank,
        "actions": candidate.actions,
        "currency": currency,
        "total_cost": str(from_minor(candidate.total_cost_minor, currency)),
        "total_value": str(from_minor(candidate.total_value_minor, currency)),
        "expected_net_value": str(from_minor(candidate.expected_net_value_minor, currency)),
        "p_stay": candidate.p_stay,
        "expected_referrals": candidate.referrals,
        "requires_approval": candidate.requires_approval,
        "reasons": candidate.reasons,
        "rules": decision.fired_rules,
        "talking_points": candidate.talking_points,
    }


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def decision_body(decision: Decision) -> dict[str, Any]:
    """Render a decision: the plans shown (in the order shown), the cap and the versions."""
    by_id = {c.plan_id: c for c in decision.candidates}
    shown = [by_id[plan_id] for plan_id in decision.shown]
    best_shown_rank = shown[0].rank if shown else len(decision.candidates)
    currency = decision.currency
    dropped = [
        {
            "plan_id": c.plan_id,
            "total_cost": str(from_minor(c.total_cost_minor, currency)),
            "expected_net_value": str(from_minor(c.expected_net_value_minor, currency)),
            "reason": c.dropped_reason,
        }
        for c in decision.candidates
        if c.dropped_reason is not None and c.rank < best_shown_rank
    ][: max(3, len(shown))]
    return {
        "decision_id": decision.id,
        "created_at": as_utc(decision.created_at),
        "status": decision.status,
        "incident": decision.incident,
        "team": decision.team,
        "currency": currency,
        "plans": [_plan(c, decision) for c in shown],
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

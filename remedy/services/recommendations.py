"""Make a recommendation for an incident and store it, every candidate included."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from remedy.decisions.engine import Candidate as EngineCandidate
from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, DecisionResult
from remedy.decisions.talking_points import talking_points
from remedy.decisions.types import FaultType, Incident
from remedy.errors import InvalidInput, NotFound
from remedy.money import to_minor
from remedy.store.models import Candidate, Decision


def incident_to_dict(incident: Incident) -> dict[str, Any]:
    """Serialise an incident for storage (money as decimal strings)."""
    data = asdict(incident)
    data["fault_type"] = str(incident.fault_type)
    data["customer_value"] = str(incident.customer_value)
    data["loss_amount"] = str(incident.loss_amount)
    return data


def incident_from_dict(data: dict[str, Any]) -> Incident:
    """Rebuild an incident stored by `incident_to_dict` (for replays and training)."""
    return Incident(
        **{
            **data,
            "fault_type": FaultType(data["fault_type"]),
            "customer_value": Decimal(data["customer_value"]),
            "loss_amount": Decimal(data["loss_amount"]),
        }
    )


class RecommendationService:
    """Runs the decision engine and records the decision."""

    def __init__(self, session: Session, engine: DecisionEngine) -> None:
        """Work in `session` with `engine`."""
        self.session = session
        self.engine = engine

    def recommend(self, incident: Incident, limit: int, requested_by: str) -> Decision:
        """Decide, store the decision with all candidates, and return it."""
        try:
            result = self.engine.decide(incident)
        except CurrencyNotConfigured:
            raise InvalidInput(
                f"no caps are configured for {incident.currency}",
                {"incident.currency": [f"no caps are configured for {incident.currency}"]},
            ) from None
        shown = [c.plan_id for c in result.kept[:limit]]
        decision = self._store(result, shown, requested_by)
        self.session.flush()
        return decision

    def _store(self, result: DecisionResult, shown: list[str], requested_by: str) -> Decision:
        """Build the decision row and its candidate rows."""
        incident = result.incident
        cap = result.cap
        versions = result.versions
        decision = Decision(
            customer_id=incident.customer_id,
            external_id=incident.external_id,
            team=incident.team,
            currency=incident.currency,
            severity=incident.severity,
            fault_type=str(incident.fault_type),
            incident=incident_to_dict(incident),
            cap={
                "amount": str(cap.amount),
                "currency": cap.currency,
                "binding": cap.binding,
                "terms": {k: str(v) for k, v in cap.terms.items()},
                "factor": str(cap.factor),
                "approval_threshold": str(cap.approval_threshold),
            },
            fired_rules=result.fired_rules,
            excluded_items=result.excluded_items,
            notes=result.notes,
            shown=shown,
            catalog_version=int(versions["catalog"]),
            rules_version=int(versions["rules"]),
            caps_version=int(versions["caps"]),
            model_version=versions["model"],
            requested_by=requested_by,
        )
        position = {plan_id: i for i, plan_id in enumerate(shown)}
        for rank, candidate in enumerate(result.candidates):
            decision.candidates.append(
                self._candidate_row(candidate, rank, position.get(candidate.plan_id), incident)
            )
        self.session.add(decision)
        return decision

    def _candidate_row(
        self, candidate: EngineCandidate, rank: int, shown_at: int | None, incident: Incident
    ) -> Candidate:
        """Build one candidate row; talking points only for the plans shown."""
        scored = candidate.scored
        plan = scored.plan
        currency = incident.currency
        language = incident.language
        return Candidate(
            rank=rank,
            shown_position=shown_at,
            plan_id=plan.plan_id,
            actions=[
                {
                    "item_id": a.item_id,
                    "kind": str(a.kind),
                    "level": a.level,
                    "label": self.engine.catalog.item(a.item_id).label(language),
                    "value": str(a.value),
                    "cost": str(a.cost),
                    "requires_approval": a.requires_approval,
                }
                for a in plan.actions
            ],
            total_cost_minor=to_minor(plan.total_cost, currency),
            total_value_minor=to_minor(plan.total_value, currency),
            expected_net_value_minor=to_minor(scored.expected_net_value, currency),
            p_stay=str(scored.p_stay),
            referrals=str(scored.referrals),
            requires_approval=candidate.requires_approval,
            dropped_reason=candidate.dropped_reason,
            reasons=candidate.reasons,
            talking_points=(
                talking_points(incident, plan, self.engine.catalog)
                if shown_at is not None
                else None
            ),
        )


def get_decision(session: Session, decision_id: str) -> Decision:
    """Load a decision with its candidates, or raise NotFound."""
    decision = session.scalar(
        sa.select(Decision)
        .where(Decision.id == decision_id)
        .options(selectinload(Decision.candidates))
    )
    if decision is None:
        raise NotFound(f"no decision {decision_id!r}")
    return decision

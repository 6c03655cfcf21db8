"""Make a recommendation for an incident and store it, every candidate included."""

from __future__ import annotations

import random
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from remedy.decisions.engine import Candidate as EngineCandidate
from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, DecisionResult
from remedy.decisions.exploration import ExplorationPolicy, shown_order
from remedy.decisions.talking_points import talking_points
from remedy.decisions.types import FaultType, Incident
from remedy.errors import InvalidInput, NotFound
from remedy.store.models import Decision


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
    """Runs the decision engine, applies logged exploration, and records the decision."""

    def __init__(
        self,
        session: Session,
        engine: DecisionEngine,
        exploration: ExplorationPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Work in `session` with `engine`; explore by `exploration` (off when None)."""
        self.session = session
        self.engine = engine
        self.exploration = exploration or ExplorationPolicy(Decimal(0))
        self.rng = rng or random.Random()

    def recommend(self, incident: Incident, limit: int, requested_by: str) -> Decision:
        """Decide, store the decision with all candidates, and return it."""
        try:
            result = self.engine.decide(incident)
        except CurrencyNotConfigured:
            raise InvalidInput(
                f"no caps are configured for {incident.currency}",
                {"incident.currency": [f"no caps are configured for {incident.currency}"]},
            ) from None
        kept = [c.plan_id for c in result.kept]
        first, propensity = self.exploration.choose_first(len(kept), self.rng)
        if first:
            result.notes.append(
                f"exploring: plan ranked {first + 1} is shown first "
                f"(probability {propensity}); the best-ranked plan follows"
            )
        decision = self._store(result, shown_order(kept, first, limit), requested_by)
        decision.propensity = str(propensity)
        self.session.flush()
        return decision

    def _store(self, result: DecisionResult, shown: list[str], requested_by: str) -> Decision:
        """Build the decision row with its compact candidate list."""
        incident = result.incident
        cap = result.cap
        versions = result.versions
        catalog = self.engine.catalog
        language = incident.language
        priced: dict[str, dict[str, Any]] = {}
        for candidate in result.candidates:
            for a in candidate.scored.plan.actions:
                if a.item_id not in priced:
                    priced[a.item_id] = {
                        "kind": str(a.kind),
                        "level": a.level,
                        "label": catalog.item(a.item_id).label(language),
                        "value": str(a.value),
                        "cost": str(a.cost),
                        "requires_approval": a.requires_approval,
                    }
        by_id = {c.plan_id: c for c in result.candidates}
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
            priced_items=priced,
            candidates=[_candidate_record(c) for c in result.candidates],
            shown=shown,
            presentation={
                plan_id: {
                    "reasons": result.reasons(by_id[plan_id]),
                    "talking_points": talking_points(incident, by_id[plan_id].scored.plan, catalog),
                }
                for plan_id in shown
            },
            catalog_version=int(versions["catalog"]),
            rules_version=int(versions["rules"]),
            caps_version=int(versions["caps"]),
            model_version=versions["model"],
            requested_by=requested_by,
        )
        self.session.add(decision)
        return decision


def _candidate_record(candidate: EngineCandidate) -> dict[str, Any]:
    """One candidate as stored: ids, money as decimal strings, scores, guardrail outcome."""
    scored = candidate.scored
    plan = scored.plan
    return {
        "plan_id": plan.plan_id,
        "items": [a.item_id for a in plan.actions],
        "total_cost": str(plan.total_cost),
        "total_value": str(plan.total_value),
        "expected_net_value": str(scored.expected_net_value),
        "p_stay": str(scored.p_stay),
        "referrals": str(scored.referrals),
        "requires_approval": candidate.requires_approval,
        "dropped_reason": candidate.dropped_reason,
    }


def get_decision(session: Session, decision_id: str) -> Decision:
    """Load a decision with its candidates, or raise NotFound."""
    decision = session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id!r}")
    return decision

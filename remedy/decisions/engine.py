"""The decision pipeline for one incident: rules -> planner -> ranker -> guardrails."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from catalog.items import Catalog
from remedy.decisions.caps import CapSettings, IncidentCap
from remedy.decisions.planner import eligible_actions, enumerate_plans
from remedy.decisions.ranker import PlanRanker, ScoredPlan
from remedy.decisions.rules import Requirement, RuleSet
from remedy.decisions.types import Incident, Plan


class CurrencyNotConfigured(ValueError):
    """Caps have no ceiling for the incident's currency, so nothing may be offered."""


@dataclass
class Candidate:
    """One scored candidate plan and what the guardrails made of it."""

    scored: ScoredPlan
    dropped_reason: str | None = None
    requires_approval: bool = False
    extra_reasons: list[str] = field(default_factory=list)

    @property
    def plan_id(self) -> str:
        """The plan's id."""
        return self.scored.plan.plan_id


@dataclass
class DecisionResult:
    """Everything decided for one incident, best plan first among those kept."""

    incident: Incident
    cap: IncidentCap
    candidates: list[Candidate]  # all candidates, ranked by expected net value
    fired_rules: list[str]
    excluded_items: dict[str, str]
    notes: list[str]
    versions: dict[str, str]
    requirements: list[Requirement] = field(default_factory=list)

    @property
    def kept(self) -> list[Candidate]:
        """Candidates inside the guardrails, best first."""
        return [c for c in self.candidates if c.dropped_reason is None]

    @property
    def dropped(self) -> list[Candidate]:
        """Candidates the guardrails removed, best first."""
        return [c for c in self.candidates if c.dropped_reason is not None]

    def reasons(self, candidate: Candidate) -> list[str]:
        """Explain a kept plan to the agent (built only for the plans shown)."""
        scored = candidate.scored
        cap = self.cap
        currency = cap.currency
        reasons = [
            f"expected net value {scored.expected_net_value} {currency}: "
            f"P(stay) {scored.p_stay}, referrals {scored.referrals}, "
            f"cost {scored.plan.total_cost} {currency}",
            f"within the incident cap of {cap.amount} {currency} ({cap.binding})",
        ]
        reasons += [f"{r.describe()} required by rule {r.rule_id}" for r in self.requirements]
        return reasons + candidate.extra_reasons


def required_cost(plan: Plan, requirements: list[Requirement]) -> Decimal:
    """Sum the cheapest action meeting each requirement (each action counted once)."""
    used: set[str] = set()
    total = Decimal(0)
    for requirement in requirements:
        matches = [a for a in plan.actions if a.item_id not in used and requirement.met_by((a,))]
        if matches:
            cheapest = min(matches, key=lambda a: a.cost)
            used.add(cheapest.item_id)
            total += cheapest.cost
    return total


@dataclass(frozen=True)
class DecisionEngine:
    """Holds one version each of catalog, rules and caps plus a ranker, and decides."""

    catalog: Catalog
    rules: RuleSet
    caps: CapSettings
    ranker: PlanRanker

    @property
    def versions(self) -> dict[str, str]:
        """The versions every decision records."""
        return {
            "catalog": str(self.catalog.version),
            "rules": str(self.rules.version),
            "caps": str(self.caps.version),
            "model": self.ranker.scorer.version,
        }

    def decide(self, incident: Incident, cost_price: Decimal = Decimal(1)) -> DecisionResult:
        """Run the pipeline; `cost_price` is the budget's shadow price (1 = no pacing)."""
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        item_kinds = {item.id: item.kind for item in self.catalog.items}
        outcome = self.rules.evaluate(incident, item_kinds)
        eligibility = eligible_actions(incident, self.catalog, outcome)
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        notes: list[str] = []
        if not plans:
            unmet = ", ".join(f"{r.describe()} (rule {r.rule_id})" for r in outcome.requirements)
            notes.append(f"no plan can meet every requirement: {unmet or 'no eligible items'}")
        cap = self.caps.incident_cap(incident, outcome.cap_factor)
        candidates = [
            self._guard(scored, cap, outcome.requirements)
            for scored in self.ranker.rank(incident, plans, cost_price)
        ]
        if plans and not any(c.dropped_reason is None for c in candidates):
            notes.append(
                f"every plan costs more than the incident cap of {cap.amount} {cap.currency}"
            )
        return DecisionResult(
            incident=incident,
            cap=cap,
            candidates=candidates,
            fired_rules=list(fired),
            excluded_items=eligibility.excluded,
            notes=notes,
            versions=self.versions,
            requirements=outcome.requirements,
        )

    def _guard(
        self, scored: ScoredPlan, cap: IncidentCap, requirements: list[Requirement]
    ) -> Candidate:
        """Apply the per-incident cap and approval threshold to one plan.

        What the rules require (the apology, a manager's call) is outside the cap: the cap
        limits discretionary generosity, and a requirement must never make every plan
        impossible. The approval threshold still sees the whole cost.
        """
        plan = scored.plan
        cost = plan.total_cost
        currency = cap.currency
        candidate = Candidate(scored)
        required = required_cost(plan, requirements)
        if cost - required > cap.amount:
            outside = (
                f" ({required} {currency} required by rules is outside it)" if required else ""
            )
            candidate.dropped_reason = (
                f"cost {cost} {currency} is over the incident cap of {cap.amount} {currency} "
                f"({cap.binding}){outside}"
            )
            return candidate
        if required:
            candidate.extra_reasons.append(
                f"{required} {currency} of the cost is required by rules and outside the cap"
            )
        if cost > cap.approval_threshold:
            candidate.requires_approval = True
            candidate.extra_reasons.append(
                f"needs approval: cost {cost} {currency} is over the threshold of "
                f"{cap.approval_threshold} {currency}"
            )
        needs_approval = [a.item_id for a in plan.actions if a.requires_approval]
        if needs_approval:
            candidate.requires_approval = True
            candidate.extra_reasons.append(
                f"needs approval: {', '.join(needs_approval)} always does"
            )
        return candidate

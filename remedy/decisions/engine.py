"""The decision pipeline for one incident: rules -> planner -> ranker -> guardrails."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from catalog.items import Catalog
from remedy.decisions.caps import CapSettings, IncidentCap
from remedy.decisions.planner import eligible_actions, enumerate_plans
from remedy.decisions.ranker import PlanRanker, ScoredPlan
from remedy.decisions.rules import Requirement, RuleOutcome, RuleSet
from remedy.domain import Incident, Plan


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
    known = plan.requirement_matches
    if known is not None and known[0] == tuple(requirements):
        return _required_cost_of_matches(plan, known[1])
    used: set[str] = set()
    total = Decimal(0)
    for requirement in requirements:
        matches = [a for a in plan.actions if a.item_id not in used and requirement.met_by((a,))]
        if matches:
            cheapest = min(matches, key=lambda a: a.cost)
            used.add(cheapest.item_id)
            total += cheapest.cost
    return total


def _required_cost_of_matches(plan: Plan, matches: tuple[tuple[int, ...], ...]) -> Decimal:
    """`required_cost` from the planner's positions of the actions meeting each requirement."""
    actions = plan.actions
    used: set[int] = set()
    total = Decimal(0)
    for positions in matches:
        free = [p for p in positions if p not in used]
        if free:
            cheapest = min(free, key=lambda p: actions[p].cost)  # first of equals, as above
            used.add(cheapest)
            total += actions[cheapest].cost
    return total


@dataclass(frozen=True)
class Ranked:
    """What rules, planner and ranker made of one incident, before the incident cap."""

    outcome: RuleOutcome
    excluded: dict[str, str]  # item id -> why it was not eligible
    scored: list[ScoredPlan]  # every plan meeting the requirements, best first
    required: list[Decimal]  # per scored plan: the cost of what the rules require


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
        return self.guard(incident, self.rank(incident, cost_price))

    def rank(self, incident: Incident, cost_price: Decimal = Decimal(1)) -> Ranked:
        """Rules, eligibility, plans and their ranking: everything but the incident cap.

        Engines with the same catalog, rules, ranker and `caps.max_extras` rank alike, so a
        what-if replay ranks an incident once and guards it under every caps document.
        """
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        item_kinds = {item.id: item.kind for item in self.catalog.items}
        outcome = self.rules.evaluate(incident, item_kinds)
        eligibility = eligible_actions(incident, self.catalog, outcome)
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        scored = self.ranker.rank(incident, plans, cost_price)
        requirements = outcome.requirements
        required = [required_cost(s.plan, requirements) for s in scored]
        return Ranked(outcome, eligibility.excluded, scored, required)

    def guard(self, incident: Incident, ranked: Ranked) -> DecisionResult:
        """Apply this engine's caps to a ranking (this engine's or an alike engine's)."""
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        outcome = ranked.outcome
        notes: list[str] = []
        if not ranked.scored:
            unmet = ", ".join(f"{r.describe()} (rule {r.rule_id})" for r in outcome.requirements)
            notes.append(f"no plan can meet every requirement: {unmet or 'no eligible items'}")
        cap = self.caps.incident_cap(incident, outcome.cap_factor)
        candidates = [
            self._guard(scored, cap, required)
            for scored, required in zip(ranked.scored, ranked.required, strict=True)
        ]
        if ranked.scored and not any(c.dropped_reason is None for c in candidates):
            notes.append(
                f"every plan costs more than the incident cap of {cap.amount} {cap.currency}"
            )
        return DecisionResult(
            incident=incident,
            cap=cap,
            candidates=candidates,
            fired_rules=list(outcome.fired),
            excluded_items=ranked.excluded,
            notes=notes,
            versions=self.versions,
            requirements=outcome.requirements,
        )

    def _guard(self, scored: ScoredPlan, cap: IncidentCap, required: Decimal) -> Candidate:
        """Apply the per-incident cap and approval threshold to one plan.

        What the rules require (the apology, a manager's call) is outside the cap: the cap
        limits discretionary generosity, and a requirement must never make every plan
        impossible. The approval threshold still sees the whole cost.
        """
        plan = scored.plan
        cost = plan.total_cost
        currency = cap.currency
        candidate = Candidate(scored)
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

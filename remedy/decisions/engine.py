"""The decision pipeline for one incident: rules -> planner -> ranker -> guardrails."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from catalog.items import Catalog
from remedy.decisions.caps import CapSettings, IncidentCap
from remedy.decisions.planner import eligible_actions, enumerate_plans
from remedy.decisions.ranker import PlanRanker, ScoredPlan
from remedy.decisions.rules import Requirement, RuleOutcome, RuleSet
from remedy.decisions.substitution import substitute_contacts
from remedy.domain import FIX_KINDS, Incident, Plan


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
    repeat_window_days: int = 60

    @property
    def generous(self) -> Candidate | None:
        """The most generous kept plan: the most overdelivery face value (then value).

        The ranker's curve may prefer a smaller gesture; the agent still sees this one beside
        the best-value plans, flagged, and may choose it: it is within every guardrail.
        """
        kept = self.kept
        if not kept:
            return None
        return max(
            kept,
            key=lambda c: (
                c.scored.plan.total_value - c.scored.plan.value_of(*FIX_KINDS),
                c.scored.expected_net_value,
            ),
        )

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
        plan = scored.plan
        reasons = [
            f"expected net value {scored.expected_net_value} {currency}: "
            f"P(stay) {scored.p_stay}, referrals {scored.referrals}, "
            f"cost {plan.total_cost} {currency}",
        ]
        fix = plan.fix
        if fix is not None:
            whole = (
                " and makes the customer whole" if fix.value >= self.incident.loss_amount else ""
            )
            reasons.append(
                f"the fix ({fix.item_id}, {plan.fix_cost} {currency}) comes first{whole}; "
                "the incident cap never limits it"
            )
        reasons.append(
            f"overdelivery within the incident cap of {cap.amount} {currency} ({cap.binding})"
        )
        reasons += [f"{r.describe()} required by rule {r.rule_id}" for r in self.requirements]
        prior = self.incident.prior_incidents
        if prior:
            reasons.append(
                f"incident {prior + 1} of this customer in {self.repeat_window_days} days: "
                "escalated (a senior contact, a bigger overdelivery)"
            )
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
    required: list[Decimal]  # per plan: what the rules require beyond the fix (outside the cap)
    substituted: list[str] = field(default_factory=list)  # what ran out and what replaced it


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

    def decide(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        used_up: frozenset[str] = frozenset(),
    ) -> DecisionResult:
        """Run the pipeline; `cost_price` is the budget's shadow price (1 = no pacing) and
        `used_up` the personal-contact levels with no capacity left today."""
        return self.guard(incident, self.rank(incident, cost_price, used_up))

    def rank(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        used_up: frozenset[str] = frozenset(),
    ) -> Ranked:
        """Rules, eligibility, plans and their ranking: everything but the incident cap.

        Engines with the same catalog, rules, ranker and `caps.max_extras` rank alike, so a
        what-if replay ranks an incident once and guards it under every caps document.
        """
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        item_kinds = {item.id: item.kind for item in self.catalog.items}
        outcome = self.rules.evaluate(incident, item_kinds)
        substituted = substitute_contacts(outcome, self.catalog, used_up) if used_up else []
        eligibility = eligible_actions(incident, self.catalog, outcome)
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        scored = self.ranker.rank(incident, plans, cost_price)
        beyond_fix = [r for r in outcome.requirements if r.part is None]
        required = [required_cost(s.plan, beyond_fix) for s in scored]
        return Ranked(outcome, eligibility.excluded, scored, required, substituted)

    def guard(self, incident: Incident, ranked: Ranked) -> DecisionResult:
        """Apply this engine's caps to a ranking (this engine's or an alike engine's)."""
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        outcome = ranked.outcome
        notes: list[str] = list(ranked.substituted)
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
                "no plan is within the guardrails: "
                + "; ".join(sorted({c.dropped_reason or "" for c in candidates})[:3])
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
            repeat_window_days=self.caps.repeat_window_days,
        )

    def _guard(self, scored: ScoredPlan, cap: IncidentCap, required: Decimal) -> Candidate:
        """Apply the per-incident cap, the fix ceiling and the approval threshold to one plan.

        The cap limits the overdelivery, never the fix: making the customer whole comes first
        whatever it costs (only the pool, the customer window and finance's explicit
        `fix_ceiling` can stop it). What the rules require beyond the fix (a manager's call) is
        outside the cap too, so a requirement never makes every plan impossible. The approval
        threshold still sees the whole cost.
        """
        plan = scored.plan
        cost = plan.total_cost
        currency = cap.currency
        candidate = Candidate(scored)
        ceiling = self.caps.fix_ceiling.get(currency)
        if ceiling is not None and plan.fix_cost > ceiling:
            candidate.dropped_reason = (
                f"the fix costs {plan.fix_cost} {currency}, over the fix ceiling of {ceiling} "
                f"{currency} (fix_ceiling in the caps: finance can raise it)"
            )
            return candidate
        discretionary = cost - plan.fix_cost - required
        if discretionary > cap.amount:
            outside = (
                f" ({required} {currency} required by rules is outside it)" if required else ""
            )
            candidate.dropped_reason = (
                f"overdelivery {cost - plan.fix_cost} {currency} is over the incident cap of "
                f"{cap.amount} {currency} ({cap.binding}){outside}"
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

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
from remedy.i18n import Messages, messages_for


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
    messages: Messages  # the incident's language: reasons, notes, dropped reasons
    requirements: list[Requirement] = field(default_factory=list)
    said_requirements: list[str] = field(default_factory=list)  # each requirement, in words

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
        m = self.messages
        scored = candidate.scored
        cap = self.cap
        currency = cap.currency
        reasons = [
            # Translators: P(stay) is the chance the customer stays; keep it as it is.
            m(
                "expected net value {value}: P(stay) {p_stay}, referrals {referrals}, cost {cost}",
                value=m.money(scored.expected_net_value, currency),
                p_stay=m.number(scored.p_stay),
                referrals=m.number(scored.referrals),
                cost=m.money(scored.plan.total_cost, currency),
            ),
            # Translators: {binding} names the cap's term (loss_multiple, value_share or
            # absolute), as the answer's caps.binding field does; keep it as it is.
            m(
                "within the incident cap of {cap} ({binding})",
                cap=m.money(cap.amount, currency),
                binding=cap.binding,
            ),
        ]
        reasons += [
            m("{requirement} required by rule {rule}", requirement=text, rule=r.rule_id)
            for r, text in zip(self.requirements, self.said_requirements, strict=True)
        ]
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

    def decide(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        messages: Messages | None = None,
    ) -> DecisionResult:
        """Run the pipeline; `cost_price` is the budget's shadow price (1 = no pacing).

        Reasons and notes are in `messages`' language (the incident's when not given).
        """
        m = messages or messages_for(incident.locale)
        return self.guard(incident, self.rank(incident, cost_price, m), m)

    def rank(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        messages: Messages | None = None,
    ) -> Ranked:
        """Rules, eligibility, plans and their ranking: everything but the incident cap.

        Engines with the same catalog, rules, ranker and `caps.max_extras` rank alike, so a
        what-if replay ranks an incident once and guards it under every caps document.
        """
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        item_kinds = {item.id: item.kind for item in self.catalog.items}
        outcome = self.rules.evaluate(incident, item_kinds)
        eligibility = eligible_actions(
            incident, self.catalog, outcome, messages or messages_for(incident.locale)
        )
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        scored = self.ranker.rank(incident, plans, cost_price)
        requirements = outcome.requirements
        required = [required_cost(s.plan, requirements) for s in scored]
        return Ranked(outcome, eligibility.excluded, scored, required)

    def guard(
        self, incident: Incident, ranked: Ranked, messages: Messages | None = None
    ) -> DecisionResult:
        """Apply this engine's caps to a ranking (this engine's or an alike engine's).

        Reasons and notes are in `messages`' language (the incident's when not given); when
        the customer's language has no catalog, the first note says so.
        """
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        m = messages or messages_for(incident.locale)
        outcome = ranked.outcome
        notes: list[str] = []
        if m.fallback:
            notes.append(
                # Translators: only ever shown in English; translate it like the others.
                m(
                    "No catalog for '{language}': talking points are in English.",
                    language=m.requested,
                )
            )
        said = [r.describe(m, self.catalog) for r in outcome.requirements]
        if not ranked.scored:
            unmet = ", ".join(
                m("{requirement} (rule {rule})", requirement=text, rule=r.rule_id)
                for r, text in zip(outcome.requirements, said, strict=True)
            )
            notes.append(
                m("no plan can meet every requirement: {unmet}", unmet=unmet)
                if unmet
                else m("no plan can meet every requirement: no eligible items")
            )
        cap = self.caps.incident_cap(incident, outcome.cap_factor)
        words = _GuardWords(m, cap)
        candidates = [
            self._guard(scored, cap, cost, words)
            for scored, cost in zip(ranked.scored, ranked.required, strict=True)
        ]
        if ranked.scored and not any(c.dropped_reason is None for c in candidates):
            notes.append(m("every plan costs more than the incident cap of {cap}", cap=words.cap))
        return DecisionResult(
            incident=incident,
            cap=cap,
            candidates=candidates,
            fired_rules=list(outcome.fired),
            excluded_items=ranked.excluded,
            notes=notes,
            versions=self.versions,
            messages=m,
            requirements=outcome.requirements,
            said_requirements=said,
        )

    def _guard(
        self, scored: ScoredPlan, cap: IncidentCap, required: Decimal, words: _GuardWords
    ) -> Candidate:
        """Apply the per-incident cap and approval threshold to one plan.

        What the rules require (the apology, a manager's call) is outside the cap: the cap
        limits discretionary generosity, and a requirement must never make every plan
        impossible. The approval threshold still sees the whole cost.
        """
        plan = scored.plan
        cost = plan.total_cost
        candidate = Candidate(scored)
        if cost - required > cap.amount:
            candidate.dropped_reason = words.over_cap(cost, required)
            return candidate
        m = words.m
        if required:
            candidate.extra_reasons.append(
                m(
                    "{required} of the cost is required by rules and outside the cap",
                    required=words.money(required),
                )
            )
        if cost > cap.approval_threshold:
            candidate.requires_approval = True
            candidate.extra_reasons.append(
                m(
                    "needs approval: cost {cost} is over the threshold of {threshold}",
                    cost=words.money(cost),
                    threshold=words.money(cap.approval_threshold),
                )
            )
        needs_approval = [a.item_id for a in plan.actions if a.requires_approval]
        if needs_approval:
            candidate.requires_approval = True
            labels = ", ".join(self.catalog.item(i).label(m) for i in needs_approval)
            candidate.extra_reasons.append(m("needs approval: {items} always does", items=labels))
        return candidate


class _GuardWords:
    """What the guardrails say about one incident's plans, in its language.

    The cap drops dozens of plans per decision, each with a reason: the cap's own words are
    made once here, and each reason costs one template fill.
    """

    def __init__(self, m: Messages, cap: IncidentCap) -> None:
        """Say things about plans under `cap` in `m`'s language."""
        self.m = m
        self.currency = cap.currency
        self._said: dict[Decimal, str] = {}  # plans share costs: say each amount once
        self.cap = self.money(cap.amount)
        self.binding = cap.binding
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        self._over = m("cost {cost} is over the incident cap of {cap} ({binding})")
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        self._over_required = m(
            "cost {cost} is over the incident cap of {cap} ({binding}) "
            "({required} required by rules is outside it)"
        )

    def money(self, amount: Decimal) -> str:
        """Format an amount of the incident's currency."""
        said = self._said.get(amount)
        if said is None:
            said = self._said[amount] = self.m.money(amount, self.currency)
        return said

    def over_cap(self, cost: Decimal, required: Decimal) -> str:
        """Why a plan costing `cost` (of which `required` by rules) is dropped by the cap."""
        if required:
            return self._over_required.format(
                cost=self.money(cost),
                cap=self.cap,
                binding=self.binding,
                required=self.money(required),
            )
        return self._over.format(cost=self.money(cost), cap=self.cap, binding=self.binding)

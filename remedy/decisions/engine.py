"""The decision pipeline for one incident: rules -> planner -> ranker -> guardrails."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from catalog.items import Catalog
from remedy.decisions.approvals import Approver, approval_reasons
from remedy.decisions.caps import CapSettings, IncidentCap
from remedy.decisions.planner import eligible_actions, enumerate_plans
from remedy.decisions.ranker import PlanRanker, ScoredPlan
from remedy.decisions.rules import Requirement, RuleOutcome, RuleSet
from remedy.decisions.substitution import substitute_contacts
from remedy.domain import FIX_KINDS, Incident, Plan
from remedy.i18n import Messages, messages_for


class CurrencyNotConfigured(ValueError):
    """Caps have no ceiling for the incident's currency, so nothing may be offered."""


@dataclass
class Candidate:
    """One scored candidate plan and what the guardrails made of it."""

    scored: ScoredPlan
    dropped_reason: str | None = None  # said to the agent, in the incident's language
    dropped_by: str | None = None  # the limit that dropped it: fix_ceiling, incident_cap, pool...
    requires_approval: bool = False
    approver: str | None = None  # lead or finance when it requires approval
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
    catalog: Catalog  # the version decided with: labels in reasons
    requirements: list[Requirement] = field(default_factory=list)
    said_requirements: list[str] = field(default_factory=list)  # each requirement, in words
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
        m = self.messages
        scored = candidate.scored
        cap = self.cap
        currency = cap.currency
        plan = scored.plan
        reasons = [
            # Translators: P(stay) is the chance the customer stays; keep it as it is.
            m(
                "expected net value {value}: P(stay) {p_stay}, referrals {referrals}, cost {cost}",
                value=m.money(scored.expected_net_value, currency),
                p_stay=m.number(scored.p_stay),
                referrals=m.number(scored.referrals),
                cost=m.money(plan.total_cost, currency),
            ),
        ]
        fix = plan.fix
        if fix is not None:
            label = self.catalog.item(fix.item_id).label(m)
            cost = m.money(plan.fix_cost, currency)
            if fix.value >= self.incident.loss_amount:
                reasons.append(
                    m(
                        "the fix ({fix}, {cost}) comes first and makes the customer whole; "
                        "the incident cap never limits it",
                        fix=label,
                        cost=cost,
                    )
                )
            else:
                reasons.append(
                    m(
                        "the fix ({fix}, {cost}) comes first; the incident cap never limits it",
                        fix=label,
                        cost=cost,
                    )
                )
        reasons.append(
            # Translators: {binding} names the cap's term (loss_multiple, value_share or
            # absolute), as the answer's caps.binding field does; keep it as it is.
            m(
                "overdelivery within the incident cap of {cap} ({binding})",
                cap=m.money(cap.amount, currency),
                binding=cap.binding,
            )
        )
        reasons += [
            m("{requirement} required by rule {rule}", requirement=text, rule=r.rule_id)
            for r, text in zip(self.requirements, self.said_requirements, strict=True)
        ]
        prior = self.incident.prior_incidents
        if prior:
            reasons.append(
                m(
                    "incident {n} of this customer in {days} days: escalated (a senior contact, "
                    "a bigger overdelivery)",
                    n=prior + 1,
                    days=self.repeat_window_days,
                )
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
        messages: Messages | None = None,
    ) -> DecisionResult:
        """Run the pipeline; `cost_price` is the budget's shadow price (1 = no pacing) and
        `used_up` the personal-contact levels with no capacity left today. Reasons and notes
        are in `messages`' language (the incident's when not given)."""
        m = messages or messages_for(incident.locale)
        return self.guard(incident, self.rank(incident, cost_price, used_up, m), m)

    def rank(
        self,
        incident: Incident,
        cost_price: Decimal = Decimal(1),
        used_up: frozenset[str] = frozenset(),
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
        m = messages or messages_for(incident.locale)
        substituted = substitute_contacts(outcome, self.catalog, used_up, m) if used_up else []
        eligibility = eligible_actions(incident, self.catalog, outcome, m)
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        scored = self.ranker.rank(incident, plans, cost_price)
        beyond_fix = [r for r in outcome.requirements if r.part is None]
        required = [required_cost(s.plan, beyond_fix) for s in scored]
        return Ranked(outcome, eligibility.excluded, scored, required, substituted)

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
        notes += ranked.substituted
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
            self._guard(scored, cap, required, words)
            for scored, required in zip(ranked.scored, ranked.required, strict=True)
        ]
        if ranked.scored and not any(c.dropped_reason is None for c in candidates):
            notes.append(
                m(
                    "no plan is within the guardrails: {reasons}",
                    reasons="; ".join(sorted({c.dropped_reason or "" for c in candidates})[:3]),
                )
            )
        return DecisionResult(
            incident=incident,
            cap=cap,
            candidates=candidates,
            fired_rules=list(outcome.fired),
            excluded_items=ranked.excluded,
            notes=notes,
            versions=self.versions,
            messages=m,
            catalog=self.catalog,
            requirements=outcome.requirements,
            said_requirements=said,
            repeat_window_days=self.caps.repeat_window_days,
        )

    def _guard(
        self, scored: ScoredPlan, cap: IncidentCap, required: Decimal, words: _GuardWords
    ) -> Candidate:
        """Apply the per-incident cap, the fix ceiling and the approval threshold to one plan.

        The cap limits the overdelivery, never the fix: making the customer whole comes first
        whatever it costs (only the pool, the customer window and finance's explicit
        `fix_ceiling` can stop it). What the rules require beyond the fix (a manager's call) is
        outside the cap too, so a requirement never makes every plan impossible. The approval
        threshold still sees the whole cost.
        """
        plan = scored.plan
        cost = plan.total_cost
        candidate = Candidate(scored)
        ceiling = self.caps.fix_ceiling.get(cap.currency)
        if ceiling is not None and plan.fix_cost > ceiling:
            candidate.dropped_reason = words.over_fix_ceiling(plan.fix_cost, ceiling)
            candidate.dropped_by = "fix_ceiling"
            return candidate
        discretionary = cost - plan.fix_cost - required
        if discretionary > cap.amount:
            candidate.dropped_reason = words.over_cap(cost - plan.fix_cost, required)
            candidate.dropped_by = "incident_cap"
            return candidate
        m = words.m
        if required:
            candidate.extra_reasons.append(
                m(
                    "{required} of the cost is required by rules and outside the cap",
                    required=words.money(required),
                )
            )
        always = [
            self.catalog.item(a.item_id).label(m) for a in plan.actions if a.requires_approval
        ]
        approver, reasons = approval_reasons(
            self.caps.approvals, cost, cap.currency, always, m, words.money
        )
        if approver != Approver.AGENT:
            candidate.requires_approval = True
            candidate.approver = approver.value
            candidate.extra_reasons.extend(reasons)
        return candidate


class _GuardWords:
    """What the guardrails say about one incident's plans, in its language.

    The cap drops dozens of plans per decision, each with a reason: the cap's own words are
    made once here (a message called without values is its translated template), and each
    reason costs one template fill.
    """

    def __init__(self, m: Messages, cap: IncidentCap) -> None:
        """Say things about plans under `cap` in `m`'s language."""
        self.m = m
        self.currency = cap.currency
        self._said: dict[Decimal, str] = {}  # plans share costs: say each amount once
        self.cap = self.money(cap.amount)
        self.binding = cap.binding
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        self._over = m("overdelivery {overdelivery} is over the incident cap of {cap} ({binding})")
        # Translators: {binding} names the cap's term, as in "within the incident cap".
        self._over_required = m(
            "overdelivery {overdelivery} is over the incident cap of {cap} ({binding}) "
            "({required} required by rules is outside it)"
        )

    def money(self, amount: Decimal) -> str:
        """Format an amount of the incident's currency."""
        said = self._said.get(amount)
        if said is None:
            said = self._said[amount] = self.m.money(amount, self.currency)
        return said

    def over_cap(self, overdelivery: Decimal, required: Decimal) -> str:
        """Why a plan whose overdelivery costs `overdelivery` (of which `required` by rules)
        is dropped by the cap."""
        if required:
            return self._over_required.format(
                overdelivery=self.money(overdelivery),
                cap=self.cap,
                binding=self.binding,
                required=self.money(required),
            )
        return self._over.format(
            overdelivery=self.money(overdelivery), cap=self.cap, binding=self.binding
        )

    def over_fix_ceiling(self, fix_cost: Decimal, ceiling: Decimal) -> str:
        """Why a plan whose fix costs more than finance's fix ceiling is dropped."""
        return self.m(
            "the fix costs {cost}, over the fix ceiling of {ceiling} "
            "(fix_ceiling in the caps: finance can raise it)",
            cost=self.money(fix_cost),
            ceiling=self.money(ceiling),
        )

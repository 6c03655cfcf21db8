"""The decision pipeline for one incident: rules -> planner -> ranker -> guardrails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from catalog.items import Catalog
from remedy.decisions.approvals import Approver, approval_reasons, make_whole_cost
from remedy.decisions.caps import CapSettings, IncidentCap
from remedy.decisions.planner import eligible_actions, enumerate_plans, requirement_positions
from remedy.decisions.ranker import PlanRanker, ScoredPlan
from remedy.decisions.rules import Requirement, RuleOutcome, RuleSet
from remedy.decisions.substitution import substitute_contacts
from remedy.decisions.value import sees_word_of_mouth
from remedy.domain import FIX_KINDS, Incident, Plan
from remedy.facts import Fact, Item, Many, Money, Number, Share, fact


class CurrencyNotConfigured(ValueError):
    """Caps have no ceiling for the incident's currency, so nothing may be offered."""


@dataclass(frozen=True)
class Blocked:
    """The limit that blocked every plan the ranking wanted: which (`limit`: pool, window,
    capacity, fix_ceiling, incident_cap, no_pool or rules), who can lift it (finance, lead or
    admin), how (a fact), and the reason the best plan it stopped was dropped."""

    limit: str
    who: str
    how: Fact
    reason: Fact | None = None

    def to_json(self) -> dict[str, object]:
        """The stored form."""
        return {"limit": self.limit, "who": self.who, "how": self.how.to_json()}


@dataclass
class Candidate:
    """One scored candidate plan and what the guardrails made of it."""

    scored: ScoredPlan
    dropped_reason: Fact | None = None  # why the guardrails dropped it (the presenter says it)
    dropped_by: str | None = None  # the limit that dropped it: fix_ceiling, incident_cap, pool...
    requires_approval: bool = False
    approver: str | None = None  # lead or finance when it requires approval
    extra_reasons: list[Fact] = field(default_factory=list)
    blocked_by: Blocked | None = None  # offered only because a limit blocked every other plan

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
    excluded_items: dict[str, Fact]
    notes: list[Fact]
    versions: dict[str, str]
    catalog: Catalog  # the version decided with: its items' labels
    requirements: list[Requirement] = field(default_factory=list)
    repeat_window_days: int = 60
    win_back: Fact | None = None  # how a customer who left is valued (their reasons say it)

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

    def reasons(self, candidate: Candidate) -> list[Fact]:
        """Why a kept plan is what it is, as facts (built only for the plans shown)."""
        scored = candidate.scored
        cap = self.cap
        currency = cap.currency
        plan = scored.plan
        reasons = [
            fact(
                "net_value",
                value=Money(scored.expected_net_value, currency),
                p_stay=Number(scored.p_stay),
                referrals=Number(scored.referrals),
                cost=Money(plan.total_cost, currency),
            ),
        ]
        fix = plan.fix
        if fix is not None:
            code = "fix_makes_whole" if fix.value >= self.incident.loss_amount else "fix_first"
            reasons.append(fact(code, fix=Item(fix.item_id), cost=Money(plan.fix_cost, currency)))
        reasons.append(fact("within_cap", cap=Money(cap.amount, currency), binding=cap.binding))
        reasons += [
            fact("required_by_rule", requirement=r.said(), rule=r.rule_id)
            for r in self.requirements
        ]
        prior = self.incident.prior_incidents
        if prior:
            reasons.append(fact("repeat_escalated", n=prior + 1, days=self.repeat_window_days))
        if self.win_back is not None:
            reasons.append(self.win_back)
        if self.incident.loss_amount == 0 and self.incident.gesture_basis is not None:
            basis = Money(self.incident.gesture_basis, currency)
            reasons.append(fact("no_loss_sized", basis=basis, severity=self.incident.severity))
        return reasons + candidate.extra_reasons


def required_cost(plan: Plan, requirements: list[Requirement]) -> Decimal:
    """Sum the cheapest action meeting each requirement (each action counted once)."""
    known = plan.requirement_matches
    positions = None if known is None else requirement_positions(known[0], tuple(requirements))
    if positions is not None:  # the planner's matches (it saw these requirements among others)
        return _required_cost_of_matches(plan, tuple(known[1][i] for i in positions))
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
    substituted: list[Fact] = field(default_factory=list)  # what ran out and what replaced it


# One incident's rules, eligibility and plans, before scoring: (sized incident, outcome,
# excluded items, substitution notes, plans).
_Planned = tuple[Incident, RuleOutcome, dict[str, Fact], list[Fact], list[Plan]]


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
        planned = self._planned(incident, used_up)
        return self._ranked(planned, self.ranker.rank(planned[0], planned[4], cost_price))

    def rank_many(
        self, incidents: Sequence[Incident], used_up: frozenset[str] = frozenset()
    ) -> list[Ranked | CurrencyNotConfigured]:
        """`rank` (unpaced) for many incidents, the model called once for all their plans (a
        what-if's chunk); an incident whose currency the caps lack gets the error `rank`
        raises, in its place."""
        planned: list[_Planned | CurrencyNotConfigured] = []
        for incident in incidents:
            try:
                planned.append(self._planned(incident, used_up))
            except CurrencyNotConfigured as error:
                planned.append(error)
        ok = [p for p in planned if not isinstance(p, CurrencyNotConfigured)]
        scored = iter(self.ranker.rank_many([(p[0], p[4]) for p in ok]))
        return [
            p if isinstance(p, CurrencyNotConfigured) else self._ranked(p, next(scored))
            for p in planned
        ]

    def _planned(self, incident: Incident, used_up: frozenset[str]) -> _Planned:
        """Rules, eligibility and the plans of one incident (sized as the caps say)."""
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        incident = self.caps.sized(incident)
        item_kinds = {item.id: item.kind for item in self.catalog.items}
        outcome = self.rules.evaluate(incident, item_kinds)
        substituted = substitute_contacts(outcome, self.catalog, used_up) if used_up else []
        eligibility = eligible_actions(incident, self.catalog, outcome)
        fired = tuple(outcome.fired)
        plans = enumerate_plans(
            incident, eligibility.actions, outcome.requirements, self.caps.max_extras, fired
        )
        return incident, outcome, eligibility.excluded, substituted, plans

    @staticmethod
    def _ranked(planned: _Planned, scored: list[ScoredPlan]) -> Ranked:
        """The ranking of planned plans, with what each owes the rules beyond the fix."""
        _, outcome, excluded, substituted, _ = planned
        beyond_fix = [r for r in outcome.requirements if r.part is None]
        if beyond_fix:
            required = [required_cost(s.plan, beyond_fix) for s in scored]
        else:  # nothing required beyond the fix: what `required_cost` gives every plan
            required = [Decimal(0)] * len(scored)
        return Ranked(outcome, excluded, scored, required, substituted)

    def guard(self, incident: Incident, ranked: Ranked) -> DecisionResult:
        """Apply this engine's caps to a ranking (this engine's or an alike engine's)."""
        if not self.caps.supports(incident.currency):
            raise CurrencyNotConfigured(incident.currency)
        incident = self.caps.sized(incident)
        outcome = ranked.outcome
        notes: list[Fact] = list(ranked.substituted)
        if not ranked.scored:
            unmet = tuple(
                fact("requirement_rule", requirement=r.said(), rule=r.rule_id)
                for r in outcome.requirements
            )
            notes.append(
                fact("unmet_requirements", unmet=Many(unmet))
                if unmet
                else fact("no_eligible_items")
            )
        cap = self.caps.incident_cap(incident, outcome.cap_factor)
        candidates = [
            self._guard(scored, cap, required, incident.loss_amount)
            for scored, required in zip(ranked.scored, ranked.required, strict=True)
        ]
        if ranked.scored and not any(c.dropped_reason is None for c in candidates):
            reasons = tuple(dict.fromkeys(c.dropped_reason for c in candidates if c.dropped_reason))
            notes.append(fact("none_within_guardrails", reasons=Many(reasons[:3], "; ")))
        return DecisionResult(
            incident=incident,
            cap=cap,
            candidates=candidates,
            fired_rules=list(outcome.fired),
            excluded_items=ranked.excluded,
            notes=notes,
            versions=self.versions,
            catalog=self.catalog,
            requirements=outcome.requirements,
            repeat_window_days=self.caps.repeat_window_days,
            win_back=self._win_back(incident),
        )

    def _win_back(self, incident: Incident) -> Fact | None:
        """How the ranker values a customer who already left (None for everyone else, and when the
        model learned it: it sees the customer's status, value.py)."""
        if incident.customer_status != "left" or sees_word_of_mouth(self.ranker.scorer):
            return None
        values = self.ranker.values
        return fact(
            "win_back",
            share=Share(values.win_back_share),
            years=Number(Decimal(f"{values.word_of_mouth(incident):.2f}")),
        )

    def _guard(
        self, scored: ScoredPlan, cap: IncidentCap, required: Decimal, loss: Decimal
    ) -> Candidate:
        """Apply the per-incident cap, the fix ceiling and the approval threshold to one plan.

        The cap limits the overdelivery, never the fix: making the customer whole comes first
        whatever it costs (only the pool, the customer window and finance's explicit
        `fix_ceiling` can stop it). What the rules require beyond the fix (a manager's call) is
        outside the cap too, so a requirement never makes every plan impossible. The approval
        tiers see the whole cost, except a make-whole fix within finance's
        `fix_without_approval` (remedy/decisions/approvals.py).
        """
        plan = scored.plan
        cost = plan.total_cost
        currency = cap.currency
        candidate = Candidate(scored)
        ceiling = self.caps.fix_ceiling.get(currency)
        if ceiling is not None and plan.fix_cost > ceiling:
            candidate.dropped_reason = fact(
                "over_fix_ceiling",
                cost=Money(plan.fix_cost, currency),
                ceiling=Money(ceiling, currency),
            )
            candidate.dropped_by = "fix_ceiling"
            return candidate
        discretionary = cost - plan.fix_cost - required
        if discretionary > cap.amount:
            over = Money(cost - plan.fix_cost, currency)
            limit = Money(cap.amount, currency)
            candidate.dropped_reason = (
                fact(
                    "over_cap_required",
                    overdelivery=over,
                    cap=limit,
                    binding=cap.binding,
                    required=Money(required, currency),
                )
                if required
                else fact("over_cap", overdelivery=over, cap=limit, binding=cap.binding)
            )
            candidate.dropped_by = "incident_cap"
            return candidate
        if required:
            candidate.extra_reasons.append(
                fact("required_outside_cap", required=Money(required, currency))
            )
        always = [a.item_id for a in plan.actions if a.requires_approval]
        fix = make_whole_cost(plan.fix_cost, loss)
        approver, reasons = approval_reasons(self.caps.approvals, cost, currency, always, fix)
        candidate.extra_reasons.extend(reasons)  # also why a large fix needs nobody
        if approver != Approver.AGENT:
            candidate.requires_approval = True
            candidate.approver = approver.value
        return candidate

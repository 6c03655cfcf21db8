"""Replay logged incidents through a decision engine against simulated budget pools.

Plain Python: the caller hands in the incidents (in time order), an engine built from the
settings to test, and the pool limits; nothing here reads or writes a database. Spending is
simulated in time order: each incident takes the best plan the guardrails keep that still fits
what is left of its pool in the incident's period, or none.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine
from remedy.decisions.types import Incident
from remedy.ledger.periods import period_at

DEFAULT_TEAM = "default"
MAX_SWEEP_POINTS = 50


@dataclass(frozen=True)
class PoolLimit:
    """A simulated pool: its period kind ('week' or 'month') and limit per period."""

    period: str
    limit: Decimal


# (team, currency) -> limit; a team without its own pool spends from the default team's.
PoolLimits = dict[tuple[str, str], PoolLimit]


@dataclass(frozen=True)
class LoggedIncident:
    """One logged decision's incident and when it was decided."""

    at: datetime
    incident: Incident


def _money_map() -> defaultdict[str, Decimal]:
    """A currency -> amount accumulator."""
    return defaultdict(Decimal)


@dataclass
class ReplayReport:
    """What a set of settings would have spent and earned over the replayed incidents."""

    decisions: int = 0
    chosen: int = 0  # incidents that got a plan
    no_plan: int = 0  # nothing inside the guardrails, or nothing fitting the pool
    skipped_for_budget: int = 0  # incidents whose best kept plan did not fit the pool
    capped: int = 0  # incidents whose best-scored plan the incident cap dropped
    approvals_needed: int = 0
    spend: defaultdict[str, Decimal] = field(default_factory=_money_map)
    expected_net_value: defaultdict[str, Decimal] = field(default_factory=_money_map)
    p_stay_sum: Decimal = Decimal(0)
    by_team: defaultdict[str, defaultdict[str, Decimal]] = field(
        default_factory=lambda: defaultdict(_money_map)
    )
    by_fault_type: defaultdict[str, defaultdict[str, Decimal]] = field(
        default_factory=lambda: defaultdict(_money_map)
    )
    by_kind: defaultdict[str, defaultdict[str, Decimal]] = field(
        default_factory=lambda: defaultdict(_money_map)
    )

    def as_dict(self) -> dict[str, Any]:
        """Serialise: money as decimal strings per currency, shares as decimal strings."""

        def money(amounts: dict[str, Decimal]) -> dict[str, str]:
            return {currency: str(amount) for currency, amount in sorted(amounts.items())}

        def grouped(groups: dict[str, dict[str, Decimal]]) -> dict[str, dict[str, str]]:
            return {key: money(amounts) for key, amounts in sorted(groups.items())}

        share = Decimal(self.capped) / Decimal(self.decisions) if self.decisions else Decimal(0)
        retention = self.p_stay_sum / Decimal(self.chosen) if self.chosen else Decimal(0)
        return {
            "decisions": self.decisions,
            "chosen": self.chosen,
            "no_plan": self.no_plan,
            "skipped_for_budget": self.skipped_for_budget,
            "spend": money(self.spend),
            "spend_by_team": grouped(self.by_team),
            "spend_by_fault_type": grouped(self.by_fault_type),
            "spend_by_kind": grouped(self.by_kind),
            "expected_net_value": money(self.expected_net_value),
            "expected_retention": str(retention.quantize(Decimal("0.000001"))),
            "capped_share": str(share.quantize(Decimal("0.000001"))),
            "approvals_needed": self.approvals_needed,
        }


def pool_for(limits: PoolLimits, team: str, currency: str) -> tuple[str, PoolLimit] | None:
    """Return the pool `team` spends from in `currency` (its own, else the default's)."""
    for owner in (team, DEFAULT_TEAM):
        limit = limits.get((owner, currency))
        if limit is not None:
            return owner, limit
    return None


@dataclass(frozen=True, slots=True)
class Choice:
    """One kept plan as spending needs it."""

    cost: Decimal
    net_value: Decimal
    p_stay: Decimal
    requires_approval: bool
    kind_costs: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class Decided:
    """What an engine decided for one incident, compactly.

    `kept` holds, best first, only the kept plans cheaper than every better one: a plan that
    costs at least as much as a better plan can never be the first to fit a pool, so these are
    the only plans spending may choose, whatever is left.
    """

    configured: bool
    capped: bool
    kept: tuple[Choice, ...]


def decide(engine: DecisionEngine, incident: Incident) -> Decided:
    """Decide one incident with `engine` (no exploration) and keep what spending needs."""
    try:
        result = engine.decide(incident)
    except CurrencyNotConfigured:
        return Decided(False, False, ())
    capped = bool(result.candidates) and result.candidates[0].dropped_reason is not None
    chain: list[Choice] = []
    for candidate in result.kept:
        plan = candidate.scored.plan
        if chain and plan.total_cost >= chain[-1].cost:
            continue
        kinds: defaultdict[str, Decimal] = defaultdict(Decimal)
        for action in plan.actions:
            kinds[str(action.kind)] += action.cost
        chain.append(
            Choice(
                plan.total_cost,
                candidate.scored.expected_net_value,
                candidate.scored.p_stay,
                candidate.requires_approval,
                tuple(kinds.items()),
            )
        )
    return Decided(True, capped, tuple(chain))


def spend(
    incidents: Sequence[LoggedIncident],
    decided: Iterable[Decided],
    limits: PoolLimits,
) -> ReplayReport:
    """Spend in time order: each incident takes its best kept plan that fits its pool."""
    report = ReplayReport()
    spent: defaultdict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for logged, decision in zip(incidents, decided, strict=True):
        incident = logged.incident
        report.decisions += 1
        if not decision.configured:
            report.no_plan += 1
            continue
        report.capped += decision.capped
        pool = pool_for(limits, incident.team, incident.currency)
        if pool is None or not decision.kept:
            report.no_plan += 1
            continue
        owner, limit = pool
        key = (owner, incident.currency, period_at(limit.period, logged.at).key)
        remaining = limit.limit - spent[key]
        chosen = next((c for c in decision.kept if c.cost <= remaining), None)
        if chosen is not decision.kept[0]:
            report.skipped_for_budget += 1
        if chosen is None:
            report.no_plan += 1
            continue
        currency = incident.currency
        spent[key] += chosen.cost
        report.chosen += 1
        report.spend[currency] += chosen.cost
        report.by_team[incident.team][currency] += chosen.cost
        report.by_fault_type[str(incident.fault_type)][currency] += chosen.cost
        for kind, cost in chosen.kind_costs:
            report.by_kind[kind][currency] += cost
        report.expected_net_value[currency] += chosen.net_value
        report.p_stay_sum += chosen.p_stay
        report.approvals_needed += chosen.requires_approval
    return report


def replay(
    incidents: Sequence[LoggedIncident],
    engine: DecisionEngine,
    limits: PoolLimits,
    on_each: Callable[[], None] | None = None,
) -> ReplayReport:
    """Decide every incident with `engine` (no exploration) and spend against `limits`."""

    def decisions() -> Iterator[Decided]:
        for logged in incidents:
            if on_each is not None:
                on_each()
            yield decide(engine, logged.incident)

    return spend(incidents, decisions(), limits)


def set_path(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of `document` with the dotted `path` (which must exist) set to `value`."""
    parts = path.split(".")
    updated = copy.deepcopy(document)
    node: Any = updated
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise KeyError(path)
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise KeyError(path)
    node[parts[-1]] = value
    return updated

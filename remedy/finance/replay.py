"""Replay logged incidents through a decision engine against simulated budget pools.

Plain Python: the caller hands in the incidents (in time order), an engine built from the
settings to test, and the pool limits; nothing here reads or writes a database. Spending is
simulated in time order: each incident takes the best plan the guardrails keep that still fits
what is left of its pool in the incident's period, or none.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Callable, Iterable
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


def replay(
    incidents: Iterable[LoggedIncident],
    engine: DecisionEngine,
    limits: PoolLimits,
    on_each: Callable[[], None] | None = None,
) -> ReplayReport:
    """Decide every incident with `engine` (no exploration) and spend against `limits`."""
    report = ReplayReport()
    spent: defaultdict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for logged in incidents:
        incident = logged.incident
        report.decisions += 1
        if on_each is not None:
            on_each()
        try:
            result = engine.decide(incident)
        except CurrencyNotConfigured:
            report.no_plan += 1
            continue
        if result.candidates and result.candidates[0].dropped_reason is not None:
            report.capped += 1
        pool = pool_for(limits, incident.team, incident.currency)
        kept = result.kept
        if pool is None or not kept:
            report.no_plan += 1
            continue
        owner, limit = pool
        key = (owner, incident.currency, period_at(limit.period, logged.at).key)
        remaining = limit.limit - spent[key]
        chosen = next((c for c in kept if c.scored.plan.total_cost <= remaining), None)
        if chosen is not kept[0]:
            report.skipped_for_budget += 1
        if chosen is None:
            report.no_plan += 1
            continue
        plan = chosen.scored.plan
        currency = incident.currency
        spent[key] += plan.total_cost
        report.chosen += 1
        report.spend[currency] += plan.total_cost
        report.by_team[incident.team][currency] += plan.total_cost
        report.by_fault_type[str(incident.fault_type)][currency] += plan.total_cost
        for action in plan.actions:
            report.by_kind[str(action.kind)][currency] += action.cost
        report.expected_net_value[currency] += chosen.scored.expected_net_value
        report.p_stay_sum += chosen.scored.p_stay
        report.approvals_needed += chosen.requires_approval
    return report


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

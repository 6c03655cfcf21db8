"""Replay logged incidents through a decision engine against simulated budget limits.

Plain Python: the caller hands in the incidents (in time order), an engine built from the
settings to test, the pool limits and the caps (customer window, contact capacity); nothing
here reads or writes a database. Spending is simulated in time order: each incident takes the
best plan the guardrails keep that still fits every limit the ledger checks when a plan is
reserved (remedy/ledger/limits.py, the same predicates): what is left of its pool in the
incident's period, what its customer may still receive in the rolling window, and the day's
personal-contact capacity at the plan's contact level; or none. A pool may have a fix line and
an overdelivery line (`PoolLimit.fix_limit`): a plan's fix part (`fix_share`, as the ledger
reserves it) then counts on the fix line and the rest on the overdelivery line, each within its
own limit (`pool_fits`), so a large make-whole does not take the room of everyone's gifts.
Balances start empty at the start of the range: what was reserved before it is not counted.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from remedy.decisions.caps import CapSettings
from remedy.decisions.engine import DecisionEngine
from remedy.domain import Incident
from remedy.ledger.limits import (
    LINES,
    CapacityState,
    PoolState,
    WindowState,
    capacity_fits,
    money_room,
    pool_fits,
    window_fits,
    window_room,
)
from remedy.ledger.periods import day_key, period_at
from remedy.ledger.settings import LimitSettings
from remedy.moments import as_utc
from remedy.money import from_minor, to_minor
from remedy.whatif.deciding import Choice, Decided, decide

DEFAULT_TEAM = "default"
MAX_SWEEP_POINTS = 50


@dataclass(frozen=True)
class PoolLimit:
    """A simulated pool: its period kind ('week' or 'month') and limit per period; with
    `fix_limit`, split as the ledger's pools are: a fix line of `fix_limit` and an
    overdelivery line of the rest (`limit` is their sum)."""

    period: str
    limit: Decimal
    fix_limit: Decimal | None = None  # None: one line for fix and overdelivery money

    @property
    def overdelivery_limit(self) -> Decimal | None:
        """The overdelivery line's limit (None: one line)."""
        return None if self.fix_limit is None else self.limit - self.fix_limit


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
    no_plan: int = 0  # nothing inside the guardrails, or nothing fitting the limits
    skipped_for_budget: int = 0  # incidents whose best kept plan broke a limit (any of them)
    # ... and which limits it broke (an incident may count under several):
    skipped_for_pool: int = 0
    # ... of which, on a pool with two lines, the fix part broke the fix line, the rest the
    # overdelivery line (a plan may break both):
    skipped_for_fix_line: int = 0
    skipped_for_overdelivery_line: int = 0
    skipped_for_customer_window: int = 0
    skipped_for_contact_capacity: int = 0
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
    # what chosen plans spent per line ('fix', 'overdelivery'), split or not
    by_line: defaultdict[str, defaultdict[str, Decimal]] = field(
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
            "skipped_for_pool": self.skipped_for_pool,
            "skipped_for_fix_line": self.skipped_for_fix_line,
            "skipped_for_overdelivery_line": self.skipped_for_overdelivery_line,
            "skipped_for_customer_window": self.skipped_for_customer_window,
            "skipped_for_contact_capacity": self.skipped_for_contact_capacity,
            "spend": money(self.spend),
            "spend_by_team": grouped(self.by_team),
            "spend_by_fault_type": grouped(self.by_fault_type),
            "spend_by_kind": grouped(self.by_kind),
            "spend_by_line": {line: money(self.by_line[line]) for line in LINES},
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


class SimulatedBalances:
    """What the replayed choices hold, in the ledger's own state types.

    Each chosen plan counts as committed at its incident's moment: in its pool's period, in
    its customer's window (per currency, the last `window_days` days: an amount counts while
    its moment is after `at - window_days`, as the ledger counts reservations) and, when it
    has a personal contact, in that level's capacity of its team's UTC day.
    """

    def __init__(self, limits: LimitSettings | None) -> None:
        """Start empty; `limits` None: no customer window and no contact capacity."""
        self.limits = limits
        self._pool_limits: dict[tuple[str, str], tuple[int, int | None]] = {}
        self._window_limits: dict[str, int | None] = {}
        self._spent: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self._fix_spent: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self._received: dict[tuple[str, str], deque[tuple[datetime, int]]] = {}
        self._received_sum: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._contacts: defaultdict[tuple[str, str, str], int] = defaultdict(int)

    def pool(self, owner: str, limit: PoolLimit, currency: str, at: datetime) -> PoolState:
        """Return the pool period holding `at` as the ledger would see it (with its lines)."""
        limits = self._pool_limits.get((owner, currency))
        if limits is None:
            fix = None if limit.fix_limit is None else to_minor(limit.fix_limit, currency)
            limits = self._pool_limits[(owner, currency)] = (to_minor(limit.limit, currency), fix)
        key = period_at(limit.period, at).key
        spent = self._spent[(owner, currency, key)]
        fix_spent = self._fix_spent[(owner, currency, key)]
        return PoolState(owner, currency, key, limits[0], 0, spent, limits[1], 0, fix_spent)

    def window(self, customer_id: str, currency: str, at: datetime) -> WindowState:
        """Return what the customer received in the rolling window ending at `at`."""
        limits = self.limits
        days = 0 if limits is None else limits.window_days
        if currency not in self._window_limits:
            self._window_limits[currency] = (
                None if limits is None else limits.window_limit_minor(currency)
            )
        limit_minor = self._window_limits[currency]
        if limit_minor is None:
            return WindowState(customer_id, currency, days, None, 0)
        key = (customer_id, currency)
        received = self._received.get(key)
        if received:
            start = at - timedelta(days=days)
            while received and received[0][0] <= start:
                self._received_sum[key] -= received.popleft()[1]
        return WindowState(customer_id, currency, days, limit_minor, self._received_sum[key])

    def capacity(self, level: str, at: datetime, team: str) -> CapacityState:
        """Return `team`'s personal-contact capacity at `level` on the day of `at`."""
        limit = None if self.limits is None else self.limits.capacity_for(level, team)
        day = day_key(at)
        return CapacityState(level, day, limit, self._contacts[(team, level, day)], team)

    def first_fit(
        self,
        kept: Sequence[Choice],
        pool: PoolState,
        window: WindowState,
        at: datetime,
        team: str,
    ) -> Choice | None:
        """Return the first of `kept` that breaks no limit (`broken_limits` is empty), or None.

        On a pool of one line the money test is one comparison with `money_room`, and each
        contact level's capacity is read once: most plans of a tight replay fail on money, and
        this loop runs for every incident of every setting replayed. A pool of two lines
        tests each part on its line (`pool_fits`) and the whole in the customer's window.
        """
        split = pool.split
        if split:
            room = window_room(window)
            fix_room = pool.fix_line.room_minor
            rest_room = pool.overdelivery_line.room_minor
        else:
            room = money_room(pool, window)
        capacities: dict[str, bool] = {}
        for choice in kept:
            if split:
                fix = choice.fix_minor
                if fix > fix_room or choice.cost_minor - fix > rest_room:
                    continue
                if room is not None and choice.cost_minor > room:
                    continue
            elif choice.cost_minor > room:  # type: ignore[operator]
                continue
            level = choice.contact_level
            if level is not None:
                free = capacities.get(level)
                if free is None:
                    free = capacities[level] = capacity_fits(self.capacity(level, at, team))
                if not free:
                    continue
            return choice
        return None

    def hold(
        self, pool: PoolState, window: WindowState, choice: Choice, at: datetime, team: str
    ) -> None:
        """Count a chosen plan in its pool period, its customer's window and its contact (in
        `team`'s day)."""
        self._spent[(pool.team, pool.currency, pool.period_key)] += choice.cost_minor
        self._fix_spent[(pool.team, pool.currency, pool.period_key)] += choice.fix_minor
        if window.limit_minor is not None:
            key = (window.customer_id, window.currency)
            self._received.setdefault(key, deque()).append((at, choice.cost_minor))
            self._received_sum[key] += choice.cost_minor
        if choice.contact_level is not None:
            self._contacts[(team, choice.contact_level, day_key(at))] += 1


def spend(
    incidents: Sequence[LoggedIncident],
    decided: Iterable[Decided],
    limits: PoolLimits,
    caps: CapSettings | None = None,
    redecide: Callable[[Incident, frozenset[str]], Decided] | None = None,
) -> ReplayReport:
    """Spend in time order: each incident takes its best kept plan that fits every limit.

    The limits are the pools in `limits` and, from `caps` (None: neither), the customer
    window and the daily contact capacity. When no plan fits and a contact level is used up
    that day, `redecide` decides again without that level, as the service substitutes, but
    only when that lowers a requirement (`Decided.may_substitute`): otherwise the substitution
    offers none of the plans that did not fit, and deciding again would find nothing.
    """
    report = ReplayReport()
    balances = SimulatedBalances(None if caps is None else caps.limits)
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
        at = as_utc(logged.at)
        currency = incident.currency
        pool_state = balances.pool(pool[0], pool[1], currency, at)
        window = balances.window(incident.customer_id, currency, at)
        team = incident.team
        chosen = balances.first_fit(decision.kept, pool_state, window, at, team)
        if chosen is None and redecide is not None and caps is not None:
            used_up = frozenset(
                level
                for level in caps.limits.capacities_for(team)
                if not capacity_fits(balances.capacity(level, at, team))
            )
            if used_up and decision.may_substitute(used_up):
                chosen = balances.first_fit(
                    redecide(incident, used_up).kept, pool_state, window, at, team
                )
        best = decision.kept[0]
        if chosen is not best:
            report.skipped_for_budget += 1
            report.skipped_for_pool += not pool_fits(best.cost_minor, pool_state, best.fix_minor)
            if pool_state.split:
                report.skipped_for_fix_line += best.fix_minor > pool_state.fix_line.room_minor
                report.skipped_for_overdelivery_line += (
                    best.cost_minor - best.fix_minor > pool_state.overdelivery_line.room_minor
                )
            report.skipped_for_customer_window += not window_fits(best.cost_minor, window)
            report.skipped_for_contact_capacity += best.contact_level is not None and not (
                capacity_fits(balances.capacity(best.contact_level, at, team))
            )
        if chosen is None:
            report.no_plan += 1
            continue
        balances.hold(pool_state, window, chosen, at, team)
        report.chosen += 1
        report.spend[currency] += chosen.cost
        report.by_team[incident.team][currency] += chosen.cost
        report.by_fault_type[str(incident.fault_type)][currency] += chosen.cost
        for kind, cost in chosen.kind_costs:
            report.by_kind[kind][currency] += cost
        fix = from_minor(chosen.fix_minor, currency)
        report.by_line["fix"][currency] += fix
        report.by_line["overdelivery"][currency] += chosen.cost - fix
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
    """Decide every incident with `engine` (no exploration) and spend against `limits` and
    the engine's caps (customer window, contact capacity)."""

    def decisions() -> Iterator[Decided]:
        for logged in incidents:
            if on_each is not None:
                on_each()
            yield decide(engine, logged.incident)

    return spend(incidents, decisions(), limits, engine.caps, substitute_with(engine))


def substitute_with(engine: DecisionEngine) -> Callable[[Incident, frozenset[str]], Decided]:
    """Decide again without the used-up contact levels (the service's substitution)."""
    return lambda incident, used_up: decide(engine, incident, used_up=used_up)

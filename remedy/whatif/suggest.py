"""Suggest caps for one pool: the settings that earn most without running the pool dry.

A search over the sweepable terms of the per-incident caps, scored by the what-if replay of
the decisions logged in a range that spend from the pool. Three knobs scale today's terms
together wherever the caps document sets them (default and every override): every
`loss_multiple`, every `value_share`, and every `absolute` cap in the pool's currency; each
takes a factor from a short grid (1 = today). Coordinate ascent: for each knob in turn, replay
every factor of its grid with the other knobs held at their best so far (one replay per knob
step: the candidates share the ranking and apply only their own caps), keep the factor with
the highest expected net value among the feasible ones, and go round again.

Feasible: the replay skipped no plan for the pool, and its spend, projected from the replayed
range to a whole pool period, stays within the pool's limit: the pool is not exhausted before
its period ends. Long work (every step replays the range): run it from the CLI
(`remedy budgets suggest-caps`) or a background job, never inside a web request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from remedy.errors import InvalidInput
from remedy.ledger.periods import period_at
from remedy.money import quantize
from remedy.whatif.paths import get_path, set_path
from remedy.whatif.replay import LoggedIncident, PoolLimits, ReplayReport, pool_for
from remedy.whatif.service import WhatIfService

FACTORS = (
    Decimal("0.5"),
    Decimal("0.75"),
    Decimal("1"),
    Decimal("1.25"),
    Decimal("1.5"),
    Decimal("2"),
)
ROUNDS = 2
# Each step's progress is one unit; `progress(total)` returns an advance(n) hook, as the
# what-if's (remedy/whatif/service.py) does.
Progress = Callable[[int], Callable[[int], None]]


@dataclass(frozen=True)
class Knob:
    """Scale every field at `paths` by one factor; `maximum` bounds a scaled value."""

    name: str
    paths: tuple[str, ...]
    maximum: Decimal | None
    currency: str | None = None  # money: quantized to the currency's minor unit

    def scaled(self, value: Any, factor: Decimal) -> str:
        """Return `value` times `factor` as the caps document's decimal text."""
        product = Decimal(str(value)) * factor
        if self.maximum is not None:
            product = min(product, self.maximum)
        if self.currency is not None:
            return str(quantize(product, self.currency))
        return str(product.quantize(Decimal("0.0001")).normalize())


def knobs_for(caps: dict[str, Any], currency: str) -> list[Knob]:
    """The knobs over `caps`: loss multiples, value shares, absolute caps in `currency`."""
    paths: dict[str, list[str]] = {"loss_multiple": [], "value_share": [], "absolute": []}
    incident_caps = caps["incident_caps"]
    terms = [("incident_caps.default", incident_caps["default"])] + [
        (f"incident_caps.overrides.{i}.set", o["set"])
        for i, o in enumerate(incident_caps.get("overrides", []))
    ]
    for base, found in terms:
        for name in ("loss_multiple", "value_share"):
            if name in found:
                paths[name].append(f"{base}.{name}")
        if currency in found.get("absolute", {}):
            paths["absolute"].append(f"{base}.absolute.{currency}")
    return [
        Knob("loss_multiple", tuple(paths["loss_multiple"]), Decimal(100)),
        Knob("value_share", tuple(paths["value_share"]), Decimal(1)),
        Knob(f"absolute {currency}", tuple(paths["absolute"]), None, currency),
    ]


def apply_factors(
    caps: dict[str, Any], knobs: Sequence[Knob], factors: dict[str, Decimal]
) -> dict[str, Any]:
    """Return `caps` with each knob's fields scaled by its factor (missing: 1)."""
    scaled = caps
    for knob in knobs:
        factor = factors.get(knob.name, Decimal(1))
        if factor == 1:
            continue
        for path in knob.paths:
            scaled = set_path(scaled, path, knob.scaled(get_path(caps, path), factor))
    return scaled


@dataclass
class Trial:
    """One setting tried: its factors and what the replay gave in the pool's currency."""

    factors: dict[str, Decimal]
    report: ReplayReport
    currency: str
    projected_spend: Decimal
    limit: Decimal

    @property
    def spend(self) -> Decimal:
        """What the replay spent in the pool's currency."""
        return self.report.spend.get(self.currency, Decimal(0))

    @property
    def net_value(self) -> Decimal:
        """The expected net value of the replay's chosen plans in the pool's currency."""
        return self.report.expected_net_value.get(self.currency, Decimal(0))

    @property
    def feasible(self) -> bool:
        """No plan skipped for the pool, and the projected spend within the limit."""
        return self.report.skipped_for_pool == 0 and self.projected_spend <= self.limit

    def as_dict(self) -> dict[str, Any]:
        """Serialise: factors and money as decimal strings."""
        data = self.report.as_dict()
        return {
            "factors": {name: str(f) for name, f in self.factors.items()},
            "spend": str(quantize(self.spend, self.currency)),
            "projected_spend": str(quantize(self.projected_spend, self.currency)),
            "expected_net_value": str(quantize(self.net_value, self.currency)),
            "feasible": self.feasible,
            **{
                k: data[k]
                for k in (
                    "decisions",
                    "chosen",
                    "approvals_needed",
                    "capped_share",
                    "expected_retention",
                    "skipped_for_pool",
                )
            },
        }


def _better(a: Trial, b: Trial | None) -> bool:
    """Tell whether `a` beats `b`: feasible first, then net value, then lower spend."""
    if b is None:
        return True
    if a.feasible != b.feasible:
        return a.feasible
    if not a.feasible:  # neither keeps within the pool: the one that overspends least
        return a.projected_spend < b.projected_spend
    return (a.net_value, -a.spend) > (b.net_value, -b.spend)


def suggest_caps(
    service: WhatIfService,
    team: str,
    currency: str,
    start: datetime,
    end: datetime,
    *,
    factors: Sequence[Decimal] = FACTORS,
    rounds: int = ROUNDS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Search the caps that maximise expected net value of `team`'s pool in `currency` over
    the decisions logged in [start, end) without exhausting the pool; see the module's doc.

    Writes nothing. Raises InvalidInput naming `team` when the pool does not exist.
    """
    if end <= start:
        raise InvalidInput("to must be after from", {"to": ["must be after from"]})
    pool = service.pool_limits().get((team, currency))
    if pool is None:
        raise InvalidInput(
            f"no pool for {team} in {currency}", {"team": [f"{team} has no {currency} pool"]}
        )
    caps = service.current_caps()
    knobs = [k for k in knobs_for(caps, currency) if k.paths]
    period = period_at(pool.period, start)
    scale = Decimal((period.end - period.start).total_seconds()) / Decimal(
        (end - start).total_seconds()
    )

    def keep(entry: LoggedIncident, limits: PoolLimits) -> bool:
        """Keep the incidents that spend from this pool."""
        found = pool_for(limits, entry.incident.team, entry.incident.currency)
        return entry.incident.currency == currency and found is not None and found[0] == team

    tried: dict[tuple[Decimal, ...], Trial] = {}
    advance = progress(rounds * len(knobs) + 1) if progress else None

    def evaluate(settings: list[dict[str, Decimal]]) -> list[Trial]:
        """Replay the settings not tried yet in one step; return a trial per setting."""
        fresh = [s for s in settings if _key(s, knobs) not in tried]
        documents = [apply_factors(caps, knobs, s) for s in fresh]
        reports = service.replay_caps(start, end, documents, keep) if fresh else []
        for setting, report in zip(fresh, reports, strict=True):
            spent = report.spend.get(currency, Decimal(0))
            tried[_key(setting, knobs)] = Trial(
                setting, report, currency, spent * scale, pool.limit
            )
        if advance is not None:
            advance(1)
        return [tried[_key(s, knobs)] for s in settings]

    best_factors = {k.name: Decimal(1) for k in knobs}
    today = evaluate([dict(best_factors)])[0]
    best = today
    for _ in range(rounds):
        for knob in knobs:
            settings = [{**best_factors, knob.name: f} for f in factors]
            for trial in evaluate(settings):
                if _better(trial, best):
                    best = trial
            best_factors = dict(best.factors)
    suggested = apply_factors(caps, knobs, best.factors)
    return {
        "team": team,
        "currency": currency,
        "period": pool.period,
        "limit": str(quantize(pool.limit, currency)),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "today": today.as_dict(),
        "suggested": {**best.as_dict(), "caps": suggested},
        "changes": [
            {
                "path": path,
                "today": str(get_path(caps, path)),
                "suggested": str(get_path(suggested, path)),
            }
            for knob in knobs
            for path in knob.paths
            if str(get_path(caps, path)) != str(get_path(suggested, path))
        ],
        "trials": len(tried),
        "notes": _notes(today, best, tried.values()) + _edges(best, factors),
    }


def _key(factors: dict[str, Decimal], knobs: Sequence[Knob]) -> tuple[Decimal, ...]:
    """The factors in knob order: one setting's key among those tried."""
    return tuple(factors.get(k.name, Decimal(1)) for k in knobs)


def _notes(today: Trial, best: Trial, tried: Any) -> list[str]:
    """Say what finance should know about the suggestion."""
    notes = []
    if not today.report.decisions:
        return ["No decisions that spend from this pool were logged in the range: nothing to tune."]
    if not today.feasible:
        notes.append(
            f"Today's caps would exhaust the pool: {today.projected_spend:.2f} {today.currency} "
            f"projected per period against a limit of {today.limit:.2f}."
        )
    if not best.feasible:
        notes.append(
            "No setting tried keeps within the pool: raise the pool or lower the caps further."
        )
    elif best is today:
        notes.append("Today's caps earn the most of the settings tried within the pool.")
    return notes


def _edges(best: Trial, factors: Sequence[Decimal]) -> list[str]:
    """Say which knobs stopped at the edge of the grid: a wider search may do better there."""
    if not best.feasible:
        return []
    low, high = min(factors), max(factors)
    notes = []
    for name, factor in best.factors.items():
        if factor == high and high != 1:
            notes.append(
                f"{name} x{factor} is the largest factor tried: a wider grid may do better."
            )
        elif factor == low and low != 1:
            notes.append(
                f"{name} x{factor} is the smallest factor tried: a wider grid may do better."
            )
    return notes

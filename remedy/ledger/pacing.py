"""Budget pacing: a shadow price on cost when a pool is spent faster than its period passes.

    spent   = (reserved + committed) / limit           share of the pool already held
    elapsed = time since the period started / its length
    ahead   = max(0, spent - elapsed)                   how far spending runs ahead of the calendar
    price   = min(max_price, 1 + strength * ahead / max(1 - spent, eps))

The ranker multiplies every plan's overdelivery cost by `price` (`paced_minor`: the fix is owed and
never priced up), so when spending runs ahead, cheaper gestures win unless an expensive one is
worth that much more. Dividing by what is left of the pool makes the
price climb as the pool nears exhaustion early in a period. At or below pace `ahead` is 0 and the
price is exactly 1: when demand is below the pool, pacing holds nothing back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

EPSILON = Decimal("0.01")


@dataclass(frozen=True)
class PacingSettings:
    """How strongly the price reacts (`strength`) and its ceiling (`max_price`)."""

    strength: Decimal = Decimal("1")
    max_price: Decimal = Decimal("3")


@dataclass(frozen=True)
class Pace:
    """Where a pool stands against its calendar, and the resulting shadow price on cost."""

    spent_share: Decimal
    elapsed_share: Decimal
    price: Decimal

    @property
    def ahead(self) -> bool:
        """Tell whether spending runs ahead of the calendar (the price is above 1)."""
        return self.price > 1


def pace(held_minor: int, limit_minor: int, elapsed_share: float, settings: PacingSettings) -> Pace:
    """Return the pace of a pool holding `held_minor` of `limit_minor` at `elapsed_share`."""
    elapsed = Decimal(repr(round(elapsed_share, 4)))
    if limit_minor <= 0:
        spent = Decimal(1)
    else:
        spent = min(Decimal(1), Decimal(held_minor) / Decimal(limit_minor)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )
    ahead = max(Decimal(0), spent - elapsed)
    price = Decimal(1)
    if ahead > 0:
        price = 1 + settings.strength * ahead / max(1 - spent, EPSILON)
        price = min(settings.max_price, price).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return Pace(spent, elapsed, price)


def paced_minor(cost_minor: int, fix_minor: int, price: Decimal) -> int:
    """What a plan costs at pacing's shadow price, in minor units: the fix at its price (money
    given back is owed, whatever the pace) and only the overdelivery part priced up, rounded
    half up to the currency's unit."""
    if price == 1:
        return cost_minor
    extra = Decimal(cost_minor - fix_minor) * price
    return fix_minor + int(extra.to_integral_value(ROUND_HALF_UP))

"""A pool's values as finance reads them (`PoolPace`, `PoolStanding`, `PoolVersion`) and the
checks of a pool's lines before it is stored or proposed (`pool_errors`, shared by the pools API
and the what-if). remedy/ledger/budgets.py sets, resolves and reads pools."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from remedy.ledger.limits import PoolState
from remedy.ledger.pacing import Pace
from remedy.ledger.periods import (
    PERIODS,
    Period,
)
from remedy.money import MoneyError, check_amount, is_currency
from remedy.store.tables import BudgetPool

POOL_STATES = ("active", "scheduled", "superseded")


@dataclass(frozen=True)
class PoolPace:
    """Where a pool in effect stands against its calendar, in its currency."""

    currency: str
    pace: Pace
    on_pace_spend_minor: int  # limit x elapsed share: what spending on pace would hold now

    @property
    def elapsed_share(self) -> Decimal:
        """Share of the period passed."""
        return self.pace.elapsed_share

    @property
    def spent_share(self) -> Decimal:
        """Share of the limit held (reserved plus committed)."""
        return self.pace.spent_share

    @property
    def cost_price(self) -> Decimal:
        """Pacing's shadow price on cost."""
        return self.pace.price


@dataclass(frozen=True)
class PoolStanding:
    """A pool in effect at a moment: the version that set it, its period's figures, its pace,
    and the version scheduled to replace it (if any)."""

    version: BudgetPool
    period: Period
    state: PoolState
    pacing: PoolPace
    scheduled: BudgetPool | None

    @property
    def team(self) -> str:
        """The pool's team (`default` is the fallback pool)."""
        return self.state.team

    @property
    def currency(self) -> str:
        """The pool's currency."""
        return self.state.currency


@dataclass(frozen=True)
class PoolVersion:
    """One stored version of a team's pool and its state at a moment (one of POOL_STATES)."""

    pool: BudgetPool
    state: str

    @property
    def currency(self) -> str:
        """The version's currency."""
        return self.pool.currency


def pool_errors(
    period: str,
    limit: Decimal | None,
    currency: str,
    fix_limit: Decimal | None = None,
    overdelivery_limit: Decimal | None = None,
) -> dict[str, list[str]]:
    """Validate a pool's fields (one limit, or the two lines); return errors by field."""
    errors: dict[str, list[str]] = {}
    if period not in PERIODS:
        errors["period"] = [f"must be one of {', '.join(PERIODS)}"]
    if not is_currency(currency):
        errors["currency"] = ["unknown ISO 4217 currency code"]
        return errors
    lines = {"fix_limit": fix_limit, "overdelivery_limit": overdelivery_limit}
    given = {name: amount for name, amount in lines.items() if amount is not None}
    for name in lines:
        if given and name not in given:
            other = next(iter(given))
            errors[name] = [f"required with {other}: a split pool names both lines"]
    if limit is None and not given:
        errors["limit"] = ["required: one limit, or fix_limit and overdelivery_limit"]
    for name, amount in {"limit": limit, **given}.items():
        if amount is None:
            continue
        if amount < 0:
            errors[name] = ["must not be negative"]
            continue
        try:  # remedy.money's checks: minor digits, below the currency's ceiling
            check_amount(amount, currency)
        except MoneyError as error:
            errors[name] = [str(error)]
    if len(given) == 2 and not errors:
        total = fix_limit + overdelivery_limit  # type: ignore[operator]
        if limit is not None and limit != total:
            errors["limit"] = [
                f"must equal fix_limit + overdelivery_limit ({total}), or be left out"
            ]
        else:
            try:
                check_amount(total, currency)
            except MoneyError as error:
                errors["limit"] = [f"fix_limit + overdelivery_limit: {error}"]
    return errors

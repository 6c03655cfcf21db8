"""Exchange rates as data: the versioned `exchange_rates` document finance sets.

Training converts every decision's net value to US dollars before averaging currencies into one
policy value; the rates it uses are a document like the caps (stored in `config_versions`,
versioned, audited, set with `PUT /v1/exchange-rates`), so finance owns them and every model card
says which version it used. `remedy init` seeds `catalog/default_exchange_rates.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.validation import DataFileError

EXCHANGE_RATES = "exchange_rates"  # the document kind
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_RATE = Decimal("1000000")  # no currency trades at a million per dollar; a typo does


@dataclass(frozen=True)
class ExchangeRates:
    """One version of the rates: units of each currency per US dollar."""

    version: int
    per_usd: dict[str, Decimal]

    def as_floats(self) -> dict[str, float]:
        """Return the rates as floats, the form training's arrays use."""
        return {currency: float(rate) for currency, rate in self.per_usd.items()}


def load_exchange_rates(document: dict[str, Any]) -> ExchangeRates:
    """Validate an exchange-rates document; raise DataFileError naming the bad field."""
    if not isinstance(document, dict):
        raise DataFileError("exchange rates: the document must be a mapping")
    unknown = set(document) - {"version", "per_usd"}
    if unknown:
        raise DataFileError(f"exchange rates: unknown field(s) {', '.join(sorted(unknown))}")
    rates = document.get("per_usd")
    if not isinstance(rates, dict) or not rates:
        raise DataFileError("per_usd: a mapping of currency codes to rates is required")
    per_usd: dict[str, Decimal] = {}
    for currency, raw in rates.items():
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise DataFileError(f"per_usd.{currency}: not a 3-letter ISO 4217 code in capitals")
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise DataFileError(f"per_usd.{currency}: the rate must be a decimal string")
        try:
            rate = Decimal(str(raw))
        except InvalidOperation:
            raise DataFileError(f"per_usd.{currency}: {raw!r} is not a number") from None
        if not rate.is_finite() or rate <= 0 or rate > _MAX_RATE:
            raise DataFileError(f"per_usd.{currency}: the rate must lie in (0, {_MAX_RATE}]")
        per_usd[currency] = rate
    if per_usd.get("USD", Decimal(1)) != 1:
        raise DataFileError("per_usd.USD: a US dollar is worth exactly 1 US dollar")
    return ExchangeRates(int(document.get("version") or 0), per_usd)

"""Exact money: `Decimal` amounts with an ISO 4217 currency, never floats.

Amounts are quantised to the currency's minor unit with ROUND_HALF_UP (the rounding a
customer expects on a receipt). The database stores integer minor units; the API carries
decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Active ISO 4217 codes and their minor-unit exponents (ISO 4217 list one, 2024 edition).
# Funds codes and precious metals (XAU, XDR, ...) are left out: nobody is refunded in gold.
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR "
    "LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD "
    "PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VED VES WST XCD XCG YER ZAR "
    "ZMW ZWG"
)
MINOR_UNITS: dict[str, int] = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
}


class MoneyError(ValueError):
    """An amount or currency that is not valid money."""


def is_currency(code: str) -> bool:
    """Tell whether `code` is an active ISO 4217 currency code."""
    return code in MINOR_UNITS


def minor_exponent(currency: str) -> int:
    """Return the number of decimal places of `currency`'s minor unit."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` to the minor unit of `currency` (half up)."""
    exponent = minor_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert an amount to integer minor units, refusing sub-minor precision."""
    exponent = minor_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows ({exponent})")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Convert integer minor units back to a quantised Decimal amount."""
    return quantize(Decimal(minor).scaleb(-minor_exponent(currency)), currency)


def parse_amount(text: str | int | Decimal) -> Decimal:
    """Parse a decimal string (never a float) into a finite Decimal."""
    if isinstance(text, float):
        raise MoneyError("amounts must be decimal strings, not floats")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise MoneyError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise MoneyError(f"{text!r} is not a finite amount")
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        """Quantise the amount to the currency's minor unit."""
        object.__setattr__(self, "amount", quantize(self.amount, self.currency))

    @property
    def minor(self) -> int:
        """The amount in integer minor units."""
        return to_minor(self.amount, self.currency)

    def __str__(self) -> str:
        """Format as '12.50 EUR'."""
        return f"{self.amount} {self.currency}"

"""Exact money: `Decimal` amounts with an ISO 4217 currency, never floats.

Amounts are quantised to the currency's minor unit with ROUND_HALF_UP (the rounding a
customer expects on a receipt). The database stores integer minor units; the API carries
decimal strings.

Every amount that enters (request fields, caps, pools, catalog prices, what-if values, the
CLI) is read by `parse_amount`, and only as plain text: ASCII digits, a leading minus only
where negative amounts make sense, one optional dot, no exponent, spaces or separators, at most
the currency's minor digits, and below `MAX_MINOR` minor units of the currency. The shape and
the size are checked on the text before any `Decimal` exists, so no input can make the
arithmetic after it slow ("1E+999999" would take minutes to turn into minor units) or fail
(a cap of "1e400" cannot be quantised).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

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


# The ceiling of every amount: below 10**12 minor units of its currency (EUR and USD
# 9,999,999,999.99, JPY 999,999,999,999, KWD 999,999,999.999). Far above any remedy, pool or
# customer value, and small enough that sums of many such amounts stay far inside the
# database's 64-bit integers (9.2 x 10**18).
MAX_MINOR_DIGITS = 12
MAX_MINOR = 10**MAX_MINOR_DIGITS
# The most decimal places any currency has (CLF, UYW), for amounts read before their currency
# is known; the longest text worth reading (digits, a sign, a dot and some leading zeros).
MAX_PLACES = max(MINOR_UNITS.values())
MAX_TEXT = 32
_PLAIN = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")  # [0-9], not \d: ASCII digits only

INVALID = 'must be a decimal string such as "12.50" (ASCII digits and one dot, no exponent)'
FLOAT = 'send money as a decimal string such as "12.50", not a JSON float'


def is_currency(code: str) -> bool:
    """Tell whether `code` is an active ISO 4217 currency code."""
    return code in MINOR_UNITS


def minor_exponent(currency: str) -> int:
    """Return the number of decimal places of `currency`'s minor unit."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency {currency!r}") from None


def ceiling(currency: str) -> Decimal:
    """Return the smallest amount of `currency` that is too large (10**12 minor units)."""
    return Decimal(MAX_MINOR).scaleb(-minor_exponent(currency))


def parse_decimal(
    value: object,
    *,
    max_digits: int = MAX_MINOR_DIGITS,
    max_places: int = 12,
    signed: bool = False,
    too_large: str | None = None,
) -> Decimal:
    """Read a plain decimal (text or int, never a float) with bounded digits; raise MoneyError.

    At most `max_digits` digits before the dot (leading zeros aside; else MoneyError with
    `too_large` as its message) and `max_places` after it; a leading minus only when `signed`.
    The text is checked before it becomes a Decimal.
    """
    too_large = too_large or f"must have at most {max_digits} digits before the dot"
    if isinstance(value, bool) or value is None:
        raise MoneyError(INVALID)
    if isinstance(value, float):
        raise MoneyError(FLOAT)
    if isinstance(value, int):
        if abs(value) >= 10**max_digits:  # compared as ints: no long text to build
            raise MoneyError(too_large)
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise MoneyError(INVALID)
    match = _PLAIN.fullmatch(value)
    if match is None:
        raise MoneyError(INVALID)
    sign, whole, fraction = match.groups()
    if sign and not signed:
        raise MoneyError("must not be negative")
    if len(whole.lstrip("0")) > max_digits:
        raise MoneyError(too_large)
    if fraction is not None and len(fraction) > max_places:
        raise MoneyError(f"must have at most {max_places} decimal places")
    return Decimal(value)


def parse_amount(value: object, currency: str | None = None, *, signed: bool = False) -> Decimal:
    """Read an amount as it enters: plain decimal text (or an int), bounded; raise MoneyError.

    With `currency`, the amount must also fit it (its minor digits, below its ceiling);
    without, it is bounded by the widest currency and `check_amount` finishes the job once the
    currency is known.
    """
    if currency is None:
        return parse_decimal(value, max_places=MAX_PLACES, signed=signed)
    amount = parse_decimal(
        value, max_places=MAX_PLACES, signed=signed, too_large=_above_ceiling(currency)
    )
    return check_amount(amount, currency)


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """Check that an amount fits `currency`: its minor digits and below its ceiling."""
    places = minor_exponent(currency)
    if not amount.is_finite():
        raise MoneyError(INVALID)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise MoneyError(f"{amount} has more decimals than {currency} allows ({places})")
    if amount and amount.adjusted() + places >= MAX_MINOR_DIGITS:
        raise MoneyError(_above_ceiling(currency))
    return amount


def _above_ceiling(currency: str) -> str:
    return f"must be below {ceiling(currency)} {currency} (10^12 minor units)"


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` to the minor unit of `currency` (half up)."""
    exponent = minor_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Convert an amount to integer minor units, refusing sub-minor precision and amounts at or
    above the ceiling (checked on the exponent first, so a huge Decimal costs nothing)."""
    exponent = minor_exponent(currency)
    if not amount.is_finite() or (amount and amount.adjusted() + exponent >= MAX_MINOR_DIGITS):
        raise MoneyError(_above_ceiling(currency))
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more decimals than {currency} allows ({exponent})")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Convert integer minor units back to a quantised Decimal amount."""
    return quantize(Decimal(minor).scaleb(-minor_exponent(currency)), currency)

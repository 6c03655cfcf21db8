"""remedy.money to the letter: every boundary and every message, with expected values written out
by hand (not computed with the functions under test), so mutation testing finds no change to
money.py that the tests miss (benchmarks/mutation.sh)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from remedy.money import (
    FLOAT,
    INVALID,
    MAX_TEXT,
    MoneyError,
    check_amount,
    from_minor,
    is_currency,
    minor_exponent,
    parse_amount,
    parse_decimal,
    quantize,
    to_minor,
)


def _message(call, *args, **kwargs) -> str:
    with pytest.raises(MoneyError) as raised:
        call(*args, **kwargs)
    return str(raised.value)


def test_currencies_and_their_minor_units():
    assert is_currency("EUR") and is_currency("JPY") and is_currency("CLF")
    assert not is_currency("eur") and not is_currency("XAU") and not is_currency("")
    assert [minor_exponent(c) for c in ("EUR", "JPY", "KWD", "CLF")] == [2, 0, 3, 4]
    assert _message(minor_exponent, "ABC") == "unknown currency 'ABC'"


def test_each_refusal_says_why():
    assert _message(parse_decimal, None) == INVALID
    assert _message(parse_decimal, True) == INVALID
    assert _message(parse_decimal, False) == INVALID
    assert _message(parse_decimal, 1.5) == FLOAT
    assert _message(parse_decimal, "1e3") == INVALID
    assert _message(parse_decimal, b"12") == INVALID
    assert _message(parse_decimal, "-1") == "must not be negative"
    assert _message(parse_decimal, "1.1234567890123") == "must have at most 12 decimal places"
    assert _message(parse_amount, "1.12345") == "must have at most 4 decimal places"
    assert _message(parse_decimal, "1" * 13) == "must have at most 12 digits before the dot"
    assert _message(parse_decimal, 10**12) == "must have at most 12 digits before the dot"
    assert _message(parse_decimal, "12", max_digits=1, too_large="big") == "big"
    assert _message(parse_amount, "12.345", "EUR") == "12.345 has more decimals than EUR allows (2)"
    assert (
        _message(parse_amount, "1" * 11, "EUR")
        == "must be below 10000000000.00 EUR (10^12 minor units)"
    )
    assert (
        _message(parse_amount, 10**12, "JPY")
        == "must be below 1000000000000 JPY (10^12 minor units)"
    )


def test_bounds_are_exact():
    # Integers: below 10**max_digits, both signs.
    assert parse_decimal(10**12 - 1) == Decimal("999999999999")
    assert parse_decimal(-(10**12 - 1), signed=True) == Decimal("-999999999999")
    assert _message(parse_decimal, -(10**12), signed=True).startswith("must have at most 12")
    assert parse_decimal(0) == Decimal(0)
    # Text: at most MAX_TEXT characters, leading zeros aside from the digit count.
    assert parse_decimal("0" * (MAX_TEXT - 1) + "7") == Decimal(7)
    assert _message(parse_decimal, "0" * MAX_TEXT + "7") == INVALID
    assert parse_decimal("9" * 12) == Decimal("999999999999")
    assert parse_decimal("0.123456789012") == Decimal("0.123456789012")
    # Places: at most the widest currency's 4 before the currency is known, then the currency's.
    assert parse_amount("1.2345") == Decimal("1.2345")
    assert parse_amount("1.234", "KWD") == Decimal("1.234")
    assert parse_amount("1.2345", "CLF") == Decimal("1.2345")
    assert parse_amount("-2.50", signed=True) == Decimal("-2.50")
    assert parse_amount("-2.50", "EUR", signed=True) == Decimal("-2.50")
    assert _message(parse_amount, "-2.50") == "must not be negative"
    assert _message(parse_amount, "-2.50", "EUR") == "must not be negative"
    # The ceiling in text is the currency's, not the widest one's.
    assert parse_amount("9999999999.99", "EUR") == Decimal("9999999999.99")
    assert parse_amount("0.00", "EUR") == Decimal("0.00")
    assert parse_amount("0", "JPY") == Decimal(0)


def test_quantize_rounds_half_up_to_the_minor_unit():
    assert quantize(Decimal("1.005"), "EUR") == Decimal("1.01")
    assert str(quantize(Decimal("1.005"), "EUR")) == "1.01"
    assert str(quantize(Decimal("1.004"), "EUR")) == "1.00"
    assert str(quantize(Decimal("-1.005"), "EUR")) == "-1.01"
    assert str(quantize(Decimal("2.5"), "JPY")) == "3"
    assert str(quantize(Decimal("0.0005"), "KWD")) == "0.001"
    assert str(quantize(Decimal("7"), "CLF")) == "7.0000"


def test_minor_units_both_ways():
    assert to_minor(Decimal("12.34"), "EUR") == 1234
    assert to_minor(Decimal("12.3"), "EUR") == 1230
    assert to_minor(Decimal("-0.01"), "EUR") == -1
    assert to_minor(Decimal("500"), "JPY") == 500
    assert to_minor(Decimal("1.234"), "KWD") == 1234
    assert to_minor(Decimal(0), "EUR") == 0
    assert to_minor(Decimal("999999999999"), "JPY") == 999_999_999_999
    assert _message(to_minor, Decimal("1000000000000"), "JPY") == (
        "must be below 1000000000000 JPY (10^12 minor units)"
    )
    assert _message(to_minor, Decimal("NaN"), "EUR").startswith("must be below")
    assert _message(to_minor, Decimal("Infinity"), "EUR").startswith("must be below")
    assert (
        _message(to_minor, Decimal("0.001"), "EUR") == "0.001 has more decimals than EUR allows (2)"
    )
    assert _message(to_minor, Decimal("0.5"), "JPY") == "0.5 has more decimals than JPY allows (0)"
    for minor, currency, text in (
        (1234, "EUR", "12.34"),
        (-5, "EUR", "-0.05"),
        (0, "EUR", "0.00"),
        (500, "JPY", "500"),
        (1234, "KWD", "1.234"),
        (1, "CLF", "0.0001"),
        (999_999_999_999, "EUR", "9999999999.99"),
    ):
        assert str(from_minor(minor, currency)) == text


def test_places_are_bounded_before_the_currency_is_checked():
    # Five places are refused as text (before any Decimal), whatever the currency allows.
    assert _message(parse_amount, "1.12345", "EUR") == "must have at most 4 decimal places"
    assert _message(check_amount, Decimal("NaN"), "EUR") == INVALID
    assert _message(check_amount, Decimal("-Infinity"), "EUR") == INVALID

"""The one money parser: plain ASCII decimal text, bounded before any Decimal arithmetic."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from remedy.money import (
    MAX_MINOR,
    MoneyError,
    ceiling,
    check_amount,
    parse_amount,
    parse_decimal,
    to_minor,
)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12.50", "EUR", Decimal("12.50")),
        ("12", "EUR", Decimal("12")),
        ("0", "JPY", Decimal("0")),
        ("50000", "JPY", Decimal("50000")),
        ("1.234", "KWD", Decimal("1.234")),
        (42, "EUR", Decimal("42")),
        ("9999999999.99", "EUR", Decimal("9999999999.99")),
        ("999999999999", "JPY", Decimal("999999999999")),
        ("0009.50", "EUR", Decimal("9.50")),
    ],
)
def test_plain_amounts_are_read_exactly(text, currency, expected):
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1E+999999",
        "1e400",
        "9e18",
        "1.5e2",
        "١٢٣",  # Arabic-Indic digits: str.isdigit() and Decimal() take them
        "１２",  # fullwidth digits
        " 12.50 ",
        "12.50\n",
        "1_000",
        "1,000.00",
        "+12",
        "12.",
        ".50",
        "1.2.3",
        "NaN",
        "Infinity",
        "-inf",
        "0x10",
        "",
        "1" * 40,
        12.5,
        True,
        None,
        [],
        {"amount": "1"},
    ],
)
def test_anything_but_plain_ascii_decimal_text_is_refused(text):
    with pytest.raises(MoneyError):
        parse_amount(text)


def test_a_minus_only_where_negative_amounts_are_allowed():
    with pytest.raises(MoneyError, match="negative"):
        parse_amount("-5.00", "EUR")
    assert parse_amount("-5.00", "EUR", signed=True) == Decimal("-5.00")


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.345", "EUR", "more decimals than EUR allows"),
        ("12.5", "JPY", "more decimals than JPY allows"),
        ("12.00", "JPY", "more decimals than JPY allows"),
        ("10000000000.00", "EUR", "must be below 10000000000.00 EUR"),
        ("1000000000000", "JPY", "must be below 1000000000000 JPY"),
        ("1000000000", "KWD", "must be below 1000000000.000 KWD"),
        (10**12, "JPY", "must be below"),
        (10**30, "EUR", "must be below 10000000000.00 EUR"),
    ],
)
def test_amounts_must_fit_their_currency(text, currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text, currency)


def test_the_ceiling_is_ten_to_the_twelve_minor_units():
    assert MAX_MINOR == 10**12
    assert (ceiling("EUR"), ceiling("JPY"), ceiling("KWD")) == (
        Decimal("10000000000.00"),
        Decimal("1000000000000"),
        Decimal("1000000000.000"),
    )
    assert to_minor(Decimal("9999999999.99"), "EUR") == MAX_MINOR - 1
    with pytest.raises(MoneyError):
        to_minor(Decimal("10000000000.00"), "EUR")


def test_check_amount_refuses_what_text_would_have_refused():
    with pytest.raises(MoneyError):
        check_amount(Decimal("NaN"), "EUR")
    with pytest.raises(MoneyError):
        check_amount(Decimal("1E+20"), "EUR")
    assert check_amount(Decimal("12.50"), "EUR") == Decimal("12.50")


def test_huge_decimals_cost_nothing_to_refuse():
    """The ceiling is checked on the exponent: converting 1E+999999 would take minutes."""
    started = time.process_time()
    for amount in (Decimal("1E+999999"), Decimal("-1E+999999"), Decimal("9E+18")):
        with pytest.raises(MoneyError):
            to_minor(amount, "JPY")
    with pytest.raises(MoneyError):
        parse_amount("9" * 100_000)
    with pytest.raises(MoneyError):
        parse_amount(10**4000)
    assert time.process_time() - started < 0.5


def test_plain_decimals_are_bounded_too():
    assert parse_decimal("0.3333", signed=True) == Decimal("0.3333")
    for text in ("1e3", "1" * 13, "0." + "1" * 13, " 1", "١"):
        with pytest.raises(MoneyError):
            parse_decimal(text)

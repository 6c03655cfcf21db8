"""Rule conditions are checked for cost when rules load: the language, the size, and a trial
on incidents at the edges of what the API accepts."""

from __future__ import annotations

import time

import pytest

from catalog.validation import DataFileError
from remedy.decisions.rules import load_rules
from tests.factories import default_document


def rules_with(when: str) -> dict:
    document = default_document("rules")
    document["rules"][0]["when"] = when
    return document


@pytest.mark.parametrize(
    "when",
    [
        "severity ** 2 >= 9",
        "customer_value > 0 and loss_amount / customer_value > 0.1",
        'locale.as_lower == "fr-fr" or language in ["de", "nl"]',
        "severity >= 4 ? churn_threat : loss_amount * 3 > 100",
        "loss_amount * 999999999999999 * 999999999999999 > 1",
        "category.length > 3 and team != 'it\\'s'",
    ],
)
def test_ordinary_conditions_load(when):
    load_rules(rules_with(when))


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("loss_amount ** 99999999 > 1", "'**' needs a literal whole exponent from 0 to 4"),
        ("severity ** loss_amount > 1", "'**' needs a literal whole exponent"),
        ("severity ** 0.5 > 1", "'**' needs a literal whole exponent"),
        ("(severity ** 4) ** 4 > 1", "'**' may not be nested"),
        ("1 << 99999999 > 1", "unsupported operator '<<'"),
        ("severity >> 1 > 1", "unsupported operator '>>'"),
        ("severity & 1 == 1", "unsupported syntax"),
        ("$range(100000000).length > 1", "unsupported syntax"),
        ("[s for s in [1, 2]].length > 1", "unsupported word or literal 'for'"),
        ('category =~ "(a+)+$"', "unsupported syntax"),
        ('d"2026-01-01" > d"2025-01-01"', "unsupported word or literal 'd'"),
        ("inf > loss_amount", "unsupported word or literal 'inf'"),
        ("loss_amount > 1e3", "unsupported syntax"),
        ("loss_amount > 1234567890123456", "unsupported syntax"),
        ("locale.as_float > 1", "unsupported attribute 'as_float'"),
        ("(" * 25 + "severity" + ")" * 25 + " > 1", "brackets nested deeper than 24"),
        (" + ".join(["severity"] * 101) + " > 1", "more than 200 tokens"),
        ("loss_amount / customer_value > 0.1", "fails for an incident with customer_value=0"),
        ("severity % (severity - 3) > 0", "fails for an incident with"),
    ],
)
def test_costly_or_failing_conditions_are_refused_naming_the_rule(when, message):
    document = rules_with(when)
    started = time.process_time()
    with pytest.raises(DataFileError) as raised:
        load_rules(document)
    assert time.process_time() - started < 0.5
    assert str(raised.value).startswith(f"rule {document['rules'][0]['id']!r}: when: ")
    assert message in str(raised.value)

"""The caps document to the letter: which currencies are supported, how overrides merge, every
term and its rounding, durations and promises, and what a document carries to the ledger;
expected values are written out by hand (benchmarks/mutation.sh runs mutmut against these)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.validation import DataFileError
from remedy.decisions.caps import Promises, load_caps
from remedy.decisions.durations import duration_seconds
from tests.factories import default_document, make_incident


def _caps(**changes):
    document = default_document("caps")
    document.update(changes)
    return load_caps(document)


def _refusal(document) -> str:
    with pytest.raises(DataFileError) as raised:
        load_caps(document)
    return str(raised.value)


def test_a_currency_needs_an_absolute_cap_and_an_approval_threshold():
    document = default_document("caps")
    document["incident_caps"]["default"]["absolute"]["NOK"] = "5000.00"  # no threshold
    document["approvals"]["agent_up_to"]["DKK"] = "2000.00"  # no absolute cap
    caps = load_caps(document)
    assert caps.supports("EUR") and caps.supports("JPY")
    assert not caps.supports("NOK") and not caps.supports("DKK") and not caps.supports("BRL")


def test_an_override_merges_its_absolute_caps_into_the_defaults():
    document = default_document("caps")
    document["incident_caps"]["overrides"] = [
        {"when": {"severity": [2]}, "set": {"absolute": {"EUR": "50.00"}}}
    ]
    caps = load_caps(document)
    terms = caps.terms_for(make_incident(severity=2))
    assert terms["absolute"]["EUR"] == Decimal("50.00")
    assert terms["absolute"]["USD"] == Decimal("550.00")  # kept from the defaults
    assert caps.default["absolute"]["EUR"] == Decimal("500.00")  # the defaults are untouched
    usd = caps.incident_cap(
        make_incident(severity=2, currency="USD", loss_amount="1000", customer_value="100000")
    )
    assert (usd.amount, usd.binding) == (Decimal("550.00"), "absolute")


def test_overrides_match_on_severity_and_fault_and_later_ones_win():
    document = default_document("caps")
    document["incident_caps"]["overrides"] = [
        {"when": {"severity": [4]}, "set": {"loss_multiple": "3"}},
        {"when": {"fault_type": ["partner"]}, "set": {"loss_multiple": "5"}},
        {"when": {"severity": [4], "fault_type": ["customer"]}, "set": {"value_share": "0.01"}},
    ]
    caps = load_caps(document)
    assert caps.terms_for(make_incident(severity=4))["loss_multiple"] == Decimal("3")
    assert caps.terms_for(make_incident(severity=4, fault_type="partner"))["loss_multiple"] == 5
    assert caps.terms_for(make_incident(severity=2, fault_type="partner"))["loss_multiple"] == 5
    assert caps.terms_for(make_incident(severity=2))["loss_multiple"] == Decimal("2")
    customer4 = caps.terms_for(make_incident(severity=4, fault_type="customer"))
    assert (customer4["loss_multiple"], customer4["value_share"]) == (3, Decimal("0.01"))
    customer2 = caps.terms_for(make_incident(severity=2, fault_type="customer"))
    assert customer2["value_share"] == Decimal("0.10")


def test_the_cap_rounds_each_term_and_keeps_the_factor_and_threshold():
    document = default_document("caps")
    document["incident_caps"]["overrides"] = []
    document["incident_caps"]["default"]["value_share"] = "0.333"
    caps = load_caps(document)
    incident = make_incident(loss_amount="10.005", customer_value="100.01")
    cap = caps.incident_cap(incident, Decimal("0.5"))
    assert cap.terms == {
        "loss_multiple": Decimal("20.01"),
        "value_share": Decimal("33.30"),  # 33.30333 rounded
        "absolute": Decimal("500.00"),
    }
    assert (cap.binding, cap.amount) == ("loss_multiple", Decimal("10.01"))  # 20.01 x 0.5
    assert (cap.factor, cap.currency) == (Decimal("0.5"), "EUR")
    assert cap.approval_threshold == Decimal("1000.00")  # the agent's tier
    jpy = caps.incident_cap(make_incident(currency="JPY", loss_amount="1001", customer_value="0"))
    assert (jpy.amount, jpy.binding, jpy.approval_threshold) == (Decimal(0), "value_share", 160000)


def test_a_tie_names_the_first_term():
    document = default_document("caps")
    document["incident_caps"]["overrides"] = []
    document["incident_caps"]["default"].update(loss_multiple="5", value_share="0.5")
    cap = load_caps(document).incident_cap(make_incident(loss_amount="100", customer_value="1000"))
    assert cap.binding == "loss_multiple" and cap.amount == Decimal("500.00")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT30M", 1800), ("PT1H", 3600), ("PT15S", 15), ("P1D", 86400), ("P1DT1H1M1S", 90061)],
)
def test_durations_in_seconds(text, seconds):
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("PT0M", "'PT0M' must be longer than zero"),
        ("P0D", "'P0D' must be longer than zero"),
        ("P", "'P' is not an ISO 8601 duration such as PT30M or PT1H"),
        ("PT", "'PT' is not an ISO 8601 duration such as PT30M or PT1H"),
        ("30M", "'30M' is not an ISO 8601 duration such as PT30M or PT1H"),
        (30, "30 is not an ISO 8601 duration such as PT30M or PT1H"),
    ],
)
def test_bad_durations_say_why(text, message):
    with pytest.raises(ValueError) as raised:
        duration_seconds(text)
    assert str(raised.value) == message


def test_promises_depend_on_severity_and_fault():
    promises = Promises("PT20M", "PT5M", "PT2H")
    assert promises.respond_by(make_incident(severity=3)) == "PT20M"
    assert promises.respond_by(make_incident(severity=4)) == "PT5M"
    assert promises.fix_by(make_incident(fault_type="company")) == "PT2H"
    assert promises.fix_by(make_incident(fault_type="partner")) == "PT2H"
    assert promises.fix_by(make_incident(fault_type="customer")) is None
    assert promises.fix_by(make_incident(fault_type="unknown")) is None
    assert Promises() == Promises("PT30M", "PT15M", "PT1H")
    loaded = _caps(promises={"respond_within": "PT45M"}).promises
    assert loaded == Promises("PT45M", "PT15M", "PT1H")
    assert "must be longer than zero" in _refusal(
        {**default_document("caps"), "promises": {"fix_within": "PT0S"}}
    )


def test_what_the_document_carries_to_the_ledger_and_the_service():
    caps = _caps(
        customer_window={"days": 30, "limit": {"EUR": "100.00"}},
        pacing={"strength": "2.5", "max_price": "7"},
        contact_capacity={"manager": 3},
        fix_ceiling={"EUR": "80.00"},
        repeat_window_days=14,
        max_extras=1,
        effective_at="2030-01-01T01:00:00+01:00",
    )
    assert caps.limits.window_days == 30
    assert caps.limits.window_limit_minor("EUR") == 10000  # 100.00 EUR
    assert caps.limits.pacing.strength == Decimal("2.5")
    assert caps.limits.pacing.max_price == Decimal("7")
    assert caps.limits.capacity_for("manager", "emea") == 3
    assert caps.fix_ceiling == {"EUR": Decimal("80.00")}
    assert (caps.repeat_window_days, caps.max_extras, caps.version) == (14, 1, 1)
    assert caps.effective_at == datetime(2030, 1, 1, tzinfo=UTC)
    defaults = _caps()
    assert (defaults.repeat_window_days, defaults.max_extras, defaults.effective_at) == (
        60,
        2,
        None,
    )
    assert defaults.limits.pacing.strength == 1 and defaults.limits.pacing.max_price == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"incident_caps": {"default": {"loss_multiple": "2", "value_share": "0.1",
                               "absolute": {"EUR": "1.00"}},
                               "overrides": [{"when": {"severity": [1]},
                                              "set": {"absolute": {"QQQ": "1"}}}]}},
            "caps: unknown currency code(s) QQQ",
        ),
        ({"customer_window": {"days": 9, "limit": {"ZZZ": "1"}}}, "caps: unknown currency code(s) ZZZ"),
        ({"fix_ceiling": {"YYY": "1"}}, "caps: unknown currency code(s) YYY"),
        (
            {"incident_caps": {"default": {"loss_multiple": "2", "value_share": "0.1",
                               "absolute": {"EUR": "1.00"}},
                               "overrides": [{"when": {"severity": [1]},
                                              "set": {"absolute": {"JPY": "10.5"}}}]}},
            "caps: incident_caps.overrides.0.set.absolute.JPY: 10.5 has more decimals than JPY",
        ),
    ],
)  # fmt: skip
def test_unknown_currencies_and_finer_amounts_anywhere_are_refused(change, message):
    assert _refusal({**default_document("caps"), **change}).startswith(message)


def test_a_document_that_is_not_a_mapping_is_refused():
    assert _refusal(["version", 1]) == "caps: the document must be a mapping"


def test_one_second_is_the_shortest_promise_and_every_unknown_code_is_named():
    assert duration_seconds("PT1S") == 1
    document = default_document("caps")
    document["fix_ceiling"] = {"QQQ": "1", "ZZZ": "2"}
    assert _refusal(document) == "caps: unknown currency code(s) QQQ, ZZZ"
    loaded = default_document("caps")
    assert load_caps(loaded).document is loaded

"""Per-incident caps: the least of three terms, per severity and fault, with approvals."""

from decimal import Decimal

import pytest

from catalog.validation import DataFileError
from remedy.decisions.caps import load_caps
from tests.factories import default_caps, default_document, default_engine, make_incident, said


def test_cap_is_the_least_of_the_three_terms():
    caps = default_caps()
    cap = caps.incident_cap(make_incident(severity=2, loss_amount="100", customer_value="5000"))
    assert cap.terms == {
        "loss_multiple": Decimal("200.00"),
        "value_share": Decimal("500.00"),
        "absolute": Decimal("500.00"),
    }
    assert (cap.amount, cap.binding) == (Decimal("200.00"), "loss_multiple")
    cap = caps.incident_cap(make_incident(severity=2, loss_amount="100", customer_value="900"))
    assert (cap.amount, cap.binding) == (Decimal("90.00"), "value_share")
    cap = caps.incident_cap(make_incident(severity=2, loss_amount="1000", customer_value="90000"))
    assert (cap.amount, cap.binding) == (Decimal("500.00"), "absolute")


def test_overrides_by_severity_and_fault_apply_in_order():
    caps = default_caps()
    severe = caps.incident_cap(
        make_incident(severity=5, fault_type="company", loss_amount="100", customer_value="100000")
    )
    assert severe.terms["loss_multiple"] == Decimal("400.00")
    assert severe.terms["absolute"] == Decimal("10000.00")
    theirs = caps.incident_cap(
        make_incident(severity=5, fault_type="customer", loss_amount="100", customer_value="100000")
    )
    assert theirs.terms["loss_multiple"] == Decimal("100.00")


def test_cap_modifier_multiplies_the_cap():
    cap = default_caps().incident_cap(make_incident(severity=2, loss_amount="100"), Decimal("1.25"))
    assert cap.amount == Decimal("150.00")  # 120.00 (value share) x 1.25


def test_plans_whose_overdelivery_is_over_the_cap_are_dropped_with_the_reason():
    """The cap limits the overdelivery; the fix (here a full refund of 100.00) is outside it."""
    result = default_engine().decide(
        make_incident(severity=3, loss_amount="100", customer_value="1000")
    )
    assert result.cap.amount == Decimal("120.00")
    assert result.kept and result.dropped
    for candidate in result.kept:
        plan = candidate.scored.plan
        assert plan.total_cost - plan.fix_cost <= Decimal("120.00")
    assert any(c.scored.plan.total_cost > Decimal("120.00") for c in result.kept)
    for candidate in result.dropped:
        plan = candidate.scored.plan
        assert plan.total_cost - plan.fix_cost > Decimal("120.00")
        assert "over the incident cap of €120.00 (value_share)" in said(candidate.dropped_reason)


def test_plans_over_the_approval_threshold_need_approval():
    document = default_document("caps")
    document["approvals"]["agent_up_to"]["EUR"] = "50.00"
    document["approvals"]["fix_without_approval"]["EUR"] = "0"  # every fix counts here
    engine = default_engine(caps=load_caps(document))
    result = engine.decide(make_incident(severity=3, loss_amount="100", customer_value="5000"))
    for candidate in result.kept:
        over = candidate.scored.plan.total_cost > Decimal("50.00")
        assert candidate.requires_approval == over
    assert any(c.requires_approval for c in result.kept)


def test_currency_without_caps_is_refused():
    from remedy.decisions.engine import CurrencyNotConfigured

    with pytest.raises(CurrencyNotConfigured):
        default_engine().decide(make_incident(currency="BRL"))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("incident_caps", "default", "value_share"),
            "1.5",
            "caps: incident_caps.default.value_share",
        ),
        (
            ("incident_caps", "default", "loss_multiple"),
            "-1",
            "caps: incident_caps.default.loss_multiple",
        ),
        (("fix_ceiling",), {"XYZ": "1"}, "caps: unknown currency code(s) XYZ"),
        (("max_extras",), 9, "caps: max_extras"),
        (
            ("customer_window", "limit"),
            {"EUR": "1.555"},
            "caps: customer_window.limit.EUR: 1.555 has more decimals than EUR allows",
        ),
        (
            ("approvals", "agent_up_to"),
            {"JPY": "100.5", "EUR": "250.00"},
            "caps: approvals.agent_up_to.JPY: 100.5 has more decimals than JPY allows",
        ),
        (
            ("incident_caps", "default", "absolute"),
            {"EUR": "300.001", "USD": "330.00"},
            "caps: incident_caps.default.absolute.EUR",
        ),
    ],
)
def test_bad_caps_are_refused_naming_the_field(path, value, message):
    document = default_document("caps")
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DataFileError) as raised:
        load_caps(document)
    assert str(raised.value).startswith(message)


def test_a_caps_document_written_before_the_ledger_still_loads():
    document = default_document("caps")
    for key in ("customer_window", "contact_capacity", "pacing"):
        del document[key]
    caps = load_caps(document)
    assert caps.limits.window_limit_minor("EUR") is None
    assert caps.limits.capacity_for("executive", "emea") is None
    assert (caps.limits.pacing.strength, caps.limits.pacing.max_price) == (
        Decimal("1"),
        Decimal("3"),
    )
    assert caps.effective_at is None


def test_the_default_caps_limit_windows_and_senior_contacts():
    caps = default_caps()
    assert (caps.limits.window_days, caps.limits.window_limit_minor("EUR")) == (
        90,
        2500000,  # 25000.00 EUR
    )
    capacity = caps.limits.capacity_for
    assert (capacity("manager", "emea"), capacity("executive", "emea")) == (40, 5)
    assert caps.limits.capacity_for("agent", "emea") is None


def test_what_rules_require_is_outside_the_cap():
    # Severe and ours: a manager must call (23.33 EUR of staff time), but the loss is tiny, so
    # the cap (4 x 5.00 = 20.00) is below the call's cost; the call must still be offered.
    result = default_engine().decide(
        make_incident(severity=4, loss_amount="5.00", customer_value="900")
    )
    assert result.cap.amount == Decimal("20.00")
    assert result.kept
    best = result.kept[0]
    assert best.scored.plan.contact_level in ("manager", "executive")
    assert any("required by rules and outside the cap" in r for r in said(result.reasons(best)))
    for candidate in result.dropped:
        assert "required by rules is outside it" in said(candidate.dropped_reason)

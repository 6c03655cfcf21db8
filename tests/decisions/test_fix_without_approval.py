"""A make-whole fix up to finance's `fix_without_approval` needs nobody's approval: the tiers
judge the cost beyond it (issue 21, part 5: the fix-within-the-hour promise must not wait on
whoever reads the queue)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.validation import DataFileError
from remedy.decisions.approvals import Approver, make_whole_cost
from remedy.decisions.caps import load_caps
from tests.factories import default_document, default_engine, make_incident, said

EUR = "EUR"


def tiers_of(document: dict) -> object:
    """The approval tiers of a caps document."""
    return load_caps(document).approvals


def test_the_bundled_limit_is_the_lead_tier_and_a_missing_currency_takes_its_lead_limit():
    document = default_document("caps")
    tiers = tiers_of(document)
    assert tiers.fix_limit(EUR) == Decimal("5000.00") == tiers.lead_up_to[EUR]
    assert tiers.fix_limit("JPY") == Decimal("800000")
    del document["approvals"]["fix_without_approval"]["EUR"]
    assert tiers_of(document).fix_limit(EUR) == Decimal("5000.00")  # lead_up_to's EUR
    del document["approvals"]["fix_without_approval"]
    assert tiers_of(document).fix_limit("USD") == Decimal("5500.00")


def test_an_old_single_threshold_document_loads_and_its_default_limit_is_the_threshold():
    document = default_document("caps")
    del document["approvals"]
    document["approval_threshold"] = {"EUR": "250.00"}
    tiers = tiers_of(document)
    assert tiers.fix_limit(EUR) == Decimal("250.00")
    # A 200.00 make-whole fix plus 100.00 of gifts: only the 100.00 counts.
    assert tiers.approver_for(Decimal("300.00"), EUR, fix=Decimal("200.00")) is Approver.AGENT
    # A 300.00 fix is above the limit: the whole 400.00 counts, as before.
    assert tiers.approver_for(Decimal("400.00"), EUR, fix=Decimal("300.00")) is Approver.FINANCE


def test_the_cost_beyond_a_fix_within_the_limit_is_what_the_tiers_judge():
    tiers = tiers_of(default_document("caps"))
    # 2,000 make-whole + 1,000 of extras: the agent decides (1,000 is the agent's tier).
    assert tiers.approver_for(Decimal("3000.00"), EUR, fix=Decimal("2000.00")) is Approver.AGENT
    assert tiers.approver_for(Decimal("3000.01"), EUR, fix=Decimal("2000.00")) is Approver.LEAD
    # Exactly at the limit still counts out; a cent above it and the whole cost counts.
    assert tiers.approver_for(Decimal("5000.00"), EUR, fix=Decimal("5000.00")) is Approver.AGENT
    assert tiers.approver_for(Decimal("5000.01"), EUR, fix=Decimal("5000.01")) is Approver.FINANCE
    # Without a fix nothing changes.
    assert tiers.approver_for(Decimal("3000.00"), EUR) is Approver.LEAD
    # An item that always needs approval still does, whatever the fix.
    assert (
        tiers.approver_for(Decimal("2100.00"), EUR, always=True, fix=Decimal("2000.00"))
        is Approver.LEAD
    )


def test_only_the_part_of_the_fix_up_to_the_loss_makes_whole():
    assert make_whole_cost(Decimal("2000.00"), Decimal("2000.00")) == Decimal("2000.00")
    assert make_whole_cost(Decimal("900.00"), Decimal("2000.00")) == Decimal("900.00")  # a credit
    assert make_whole_cost(Decimal("3000.00"), Decimal("2000.00")) == Decimal("2000.00")
    assert make_whole_cost(Decimal("50.00"), Decimal("0")) == Decimal("0")  # nothing lost


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({"XYZ": "1.00"}, r"unknown currency code\(s\) XYZ"),
        ({"EUR": "-1.00"}, "fix_without_approval.EUR: must not be negative"),
        ({"EUR": "1.001"}, "fix_without_approval.EUR"),
    ],
)
def test_a_bad_limit_is_refused_naming_it(amounts, message):
    document = default_document("caps")
    document["approvals"]["fix_without_approval"] = amounts
    with pytest.raises(DataFileError, match=message):
        load_caps(document)


def make_whole_2000(caps_document: dict):  # type: ignore[no-untyped-def]
    """Decide a 2,000 EUR company-caused loss (a billing error: money back) under a caps
    document; return the kept plan that is the full refund and nothing else paid."""
    engine = default_engine(caps=load_caps(caps_document))
    incident = make_incident(
        severity=3, loss_amount="2000.00", customer_value="20000.00", category="billing"
    )
    result = engine.decide(incident)
    return next(c for c in result.candidates if c.plan_id == "apology+refund_full")


def test_a_2000_eur_make_whole_fix_needs_no_approval_and_says_why():
    candidate = make_whole_2000(default_document("caps"))
    assert candidate.dropped_reason is None
    assert candidate.scored.plan.total_cost == Decimal("2000.00")
    assert not candidate.requires_approval and candidate.approver is None
    assert (
        "the fix (€2,000.00) needs no approval up to €5,000.00: approval counts only the "
        "€0.00 beyond it"
    ) in said(candidate.extra_reasons)


def test_the_same_fix_waits_for_a_lead_when_finance_sets_the_limit_to_zero():
    document = default_document("caps")
    document["approvals"]["fix_without_approval"]["EUR"] = "0"
    candidate = make_whole_2000(document)
    assert candidate.requires_approval and candidate.approver == "lead"
    reasons = said(candidate.extra_reasons)
    assert not any("needs no approval" in r for r in reasons)
    assert any("needs a team lead's approval: cost €2,000.00" in r for r in reasons)

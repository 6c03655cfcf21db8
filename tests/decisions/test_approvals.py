"""Approval tiers in the caps document: who approves a plan by its cost, old documents, checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.validation import DataFileError
from remedy.decisions.approvals import Approver
from remedy.decisions.caps import load_caps
from tests.factories import default_document, default_engine, make_incident, said


def legacy_document(threshold: str = "250.00") -> dict:
    """A caps document as written before tiers: one approval_threshold."""
    document = default_document("caps")
    del document["approvals"]
    document["approval_threshold"] = {"EUR": threshold, "USD": "275.00"}
    return document


def test_the_bundled_tiers_are_generous_and_fix_first():
    tiers = load_caps(default_document("caps")).approvals
    assert tiers.agent_up_to["EUR"] == Decimal("1000.00")
    assert tiers.lead_up_to["EUR"] == Decimal("5000.00")
    assert tiers.escalate_after_seconds == 15 * 60
    assert tiers.approver_for(Decimal("1000.00"), "EUR") is Approver.AGENT
    assert tiers.approver_for(Decimal("1000.01"), "EUR") is Approver.LEAD
    assert tiers.approver_for(Decimal("5000.00"), "EUR") is Approver.LEAD
    assert tiers.approver_for(Decimal("5000.01"), "EUR") is Approver.FINANCE
    # An item that always needs approval goes to a lead at least, even when cheap.
    assert tiers.approver_for(Decimal("80.00"), "EUR", always=True) is Approver.LEAD
    # Every currency with an incident cap has both tiers.
    currencies = set(default_document("caps")["incident_caps"]["default"]["absolute"])
    assert set(tiers.agent_up_to) == set(tiers.lead_up_to) == currencies


def test_an_old_single_threshold_reads_as_one_tier_with_finance_above():
    caps = load_caps(legacy_document())
    assert caps.approval_threshold == {"EUR": Decimal("250.00"), "USD": Decimal("275.00")}
    assert caps.approvals.lead_up_to == {}
    assert caps.approvals.approver_for(Decimal("250.00"), "EUR") is Approver.AGENT
    assert caps.approvals.approver_for(Decimal("250.01"), "EUR") is Approver.FINANCE
    assert caps.approvals.approver_for(Decimal("1.00"), "EUR", always=True) is Approver.FINANCE
    assert caps.supports("EUR") and not caps.supports("GBP")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d.update(approval_threshold={"EUR": "250.00"}),
            "caps: approvals: give approvals (tiers) or the older approval_threshold, not both",
        ),
        (lambda d: d.pop("approvals"), "caps: approvals: Missing data for required field."),
        (
            lambda d: d["approvals"]["lead_up_to"].update(EUR="1000.00"),
            "caps: approvals.lead_up_to.EUR: 1000.00 must be above agent_up_to's 1000.00 EUR",
        ),
        (
            lambda d: d["approvals"]["agent_up_to"].pop("GBP"),
            "caps: approvals.lead_up_to.GBP: agent_up_to has no GBP: set both tiers",
        ),
        (
            lambda d: d["approvals"].update(escalate_after="15 minutes"),
            "caps: approvals.escalate_after: '15 minutes' is not an ISO 8601 duration",
        ),
        (
            lambda d: d["approvals"]["agent_up_to"].update(EUR="12.345"),
            "caps: approvals.agent_up_to.EUR: 12.345 has more decimals than EUR allows",
        ),
    ],
)
def test_bad_tiers_are_refused_naming_the_field(change, message):
    document = default_document("caps")
    change(document)
    with pytest.raises(DataFileError) as raised:
        load_caps(document)
    assert str(raised.value).startswith(message)


def test_unknown_currencies_in_the_tiers_are_refused():
    document = default_document("caps")
    document["approvals"]["agent_up_to"]["XYZ"] = "1.00"
    document["approvals"]["lead_up_to"]["XYZ"] = "2.00"
    with pytest.raises(DataFileError, match=r"unknown currency code\(s\) XYZ"):
        load_caps(document)


def test_each_plan_says_who_approves_it_and_why():
    document = default_document("caps")
    document["approvals"]["agent_up_to"]["EUR"] = "60.00"
    document["approvals"]["lead_up_to"]["EUR"] = "150.00"
    # Every fix counts (test_fix_without_approval.py covers the make-whole exemption).
    document["approvals"]["fix_without_approval"]["EUR"] = "0"
    engine = default_engine(caps=load_caps(document))
    result = engine.decide(make_incident(severity=3, loss_amount="100", customer_value="5000"))
    seen = set()
    for candidate in result.kept:
        cost = candidate.scored.plan.total_cost
        always = any(a.requires_approval for a in candidate.scored.plan.actions)
        expected = (
            "finance" if cost > Decimal("150.00") else "lead" if cost > 60 or always else None
        )
        assert candidate.approver == expected
        assert candidate.requires_approval == (expected is not None)
        seen.add(expected)
        reasons = " | ".join(said(candidate.extra_reasons))
        if expected == "lead" and cost > 60:
            assert "needs a team lead's approval: cost" in reasons
            assert "is over €60.00, up to which the agent decides" in reasons
        if expected == "finance":
            assert "needs finance's approval: cost" in reasons
            assert "is over €150.00, up to which a team lead approves" in reasons
    assert seen == {None, "lead", "finance"}


def test_an_old_document_still_sends_large_plans_to_finance():
    engine = default_engine(caps=load_caps(legacy_document("50.00")))
    result = engine.decide(make_incident(severity=3, loss_amount="100", customer_value="5000"))
    needing = [c for c in result.kept if c.requires_approval]
    assert needing and all(c.approver == "finance" for c in needing)
    over = next(c for c in needing if c.scored.plan.total_cost > 50)
    assert any("is over the threshold of €50.00" in r for r in said(over.extra_reasons))

"""Rules: validated at load with their id, evaluated safely per incident."""

from decimal import Decimal

import pytest

from catalog.validation import DataFileError
from remedy.decisions.rules import load_rules
from remedy.domain import Kind
from tests.factories import default_catalog, default_document, default_rules, make_incident

ITEM_KINDS = {item.id: item.kind for item in default_catalog().items}


def rule(**fields):
    """A rules document holding one rule."""
    base = {"id": "r1", "description": "a test rule", "when": "severity >= 4"}
    base.update(fields)
    return {"version": 1, "rules": [base]}


def test_apology_required_when_company_or_partner_at_fault():
    rules = default_rules()
    for fault in ("company", "partner"):
        outcome = rules.evaluate(make_incident(fault_type=fault), ITEM_KINDS)
        assert "apology-when-at-fault" in outcome.fired
        assert any(r.item == "apology" for r in outcome.requirements)
    outcome = rules.evaluate(make_incident(fault_type="customer"), ITEM_KINDS)
    assert not any(r.item == "apology" for r in outcome.requirements)


def test_senior_contact_required_for_severe_company_faults():
    rules = default_rules()
    outcome = rules.evaluate(make_incident(severity=4, fault_type="company"), ITEM_KINDS)
    (contact,) = [r for r in outcome.requirements if r.kind == Kind.PERSONAL_CONTACT]
    assert contact.min_level == "manager"
    outcome = rules.evaluate(make_incident(severity=3, fault_type="company"), ITEM_KINDS)
    assert not [r for r in outcome.requirements if r.kind == Kind.PERSONAL_CONTACT]


def test_customer_fault_bounds_refunds_at_half_the_loss():
    outcome = default_rules().evaluate(make_incident(fault_type="customer"), ITEM_KINDS)
    bounds = {r.id: m for r, m in outcome.bounds}
    assert bounds["half-refund-when-customer-at-fault"] == Decimal("0.5")


def test_allow_and_forbid_and_cap_modifier():
    document = {
        "version": 3,
        "rules": [
            {
                "id": "allow-exec",
                "description": "allow",
                "when": "churn_threat",
                "allow": {"items": ["contact_executive"]},
            },
            {
                "id": "no-gifts-by-phone",
                "description": "forbid",
                "when": 'channel == "phone"',
                "forbid": {"kinds": ["gift"]},
            },
            {
                "id": "bigger-cap",
                "description": "cap",
                "when": "customer_value > 1000",
                "cap_modifier": {"factor": "1.5"},
            },
        ],
    }
    rules = load_rules(document, set(ITEM_KINDS))
    outcome = rules.evaluate(make_incident(churn_threat=True, channel="phone"), ITEM_KINDS)
    assert outcome.allowed == {"contact_executive": "allow-exec"}
    assert set(outcome.forbidden) == {i for i, k in ITEM_KINDS.items() if k == Kind.GIFT}
    assert outcome.cap_factor == Decimal("1.5")
    assert outcome.fired == ["allow-exec", "no-gifts-by-phone", "bigger-cap"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"when": "sevrity > 3", "forbid": {"kinds": ["gift"]}},
            "rule 'r1': when: SymbolResolutionError",
        ),
        ({"when": "severity >", "forbid": {"kinds": ["gift"]}}, "rule 'r1': when: RuleSyntaxError"),
        ({"forbid": {"kinds": ["gift"]}, "allow": {"kinds": ["gift"]}}, "rule 'r1': effect"),
        ({}, "rule 'r1': effect"),
        ({"forbid": {"kinds": ["bribe"]}}, "rule 'r1': forbid.kinds"),
        ({"require": {"item": "apology", "kind": "gift"}}, "rule 'r1': require"),
        ({"forbid": {"items": ["no_such_item"]}}, "rule 'r1': forbid: unknown catalog item"),
        ({"bound": {"kinds": ["refund"]}}, "rule 'r1': bound.max_loss_multiple"),
        (
            {"when": "__import__('os').system('true')", "forbid": {"kinds": ["gift"]}},
            "rule 'r1': when",
        ),
    ],
)
def test_bad_rules_are_rejected_naming_the_rule(fields, message):
    with pytest.raises(DataFileError) as raised:
        load_rules(rule(**fields), set(ITEM_KINDS))
    assert str(raised.value).startswith(message)


def test_default_rules_have_ids_descriptions_and_a_version():
    document = default_document("rules")
    rules = default_rules()
    assert rules.version == document["version"]
    assert all(r.id and len(r.description) > 10 for r in rules.rules)


def test_remembered_conditions_fire_as_the_conditions_themselves():
    """Conditions over discrete symbols are remembered per their values; `in` operands
    (kept in slots) count as read, and a money symbol compared with a literal adds the side of
    the literal it falls on (tests/decisions/test_rule_sides.py)."""
    import numpy as np

    from training.simulator import random_incident

    rules = default_rules()
    keys = {rule.id: rule.memo_keys for rule in rules.rules}
    assert keys["apology-when-at-fault"] == ("fault_type",)
    assert keys["a-person-for-public-haters"] == ("churn_threat", "public", "severity")
    assert keys["make-whole-when-ours"] == ("fault_type",)  # and loss_amount's side of 0
    rng = np.random.default_rng(3)
    for index in range(300):
        context = random_incident(rng, index).rule_context()
        for rule in rules.rules:
            assert rule.fires(context) == bool(rule.condition.matches(context)), rule.id

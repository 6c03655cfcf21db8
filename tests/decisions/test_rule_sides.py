"""Rules comparing amounts with literals are remembered per side of each literal, and answer
exactly as their conditions do (issue 26: rules once per incident shape)."""

from __future__ import annotations

import dataclasses

import numpy as np

from remedy.decisions.rules import load_rules
from tests.factories import default_rules
from training.simulator import random_incident

EXTRA = [
    ("amount-edges", "customer_value >= 2000 and loss_amount < 80.5 and severity > 2"),
    ("equal-edge", "loss_amount == 40 or reach != 100"),
    ("not-a-literal", "customer_value > loss_amount * 10"),  # compared with another symbol
]


def _rules():  # type: ignore[no-untyped-def]
    document = default_rules().document
    extra = [
        {"id": rule_id, "description": "a test rule", "when": when, "cap_modifier": {"factor": "1"}}
        for rule_id, when in EXTRA
    ]
    return load_rules({**document, "rules": [*document["rules"], *extra]})


def test_remembered_answers_are_the_conditions():
    rules = _rules()
    by_id = {rule.id: rule for rule in rules.rules}
    assert by_id["amount-edges"].memo_sides and by_id["equal-edge"].memo_sides
    assert by_id["not-a-literal"].memo_keys is None  # walked every time, as before
    rng = np.random.default_rng(7)
    checked = 0
    for index in range(1500):
        incident = random_incident(rng, index)
        if index % 5 == 0:  # the literals themselves, where a side flips
            incident = dataclasses.replace(incident, loss_amount=incident.loss_amount * 0 + 40)
        context = incident.rule_context()
        for rule in rules.rules:
            assert rule.fires(context) == bool(rule.condition.matches(context)), rule.id
            checked += 1
    assert checked == 1500 * len(rules.rules)
    # severity (5 values) x the sides of 2000 and 80.5 (3 each): the amounts add no more
    assert len(by_id["amount-edges"]._memo) <= 45

"""Spending decides again only when a used-up contact level lowers a requirement, and reports
exactly what deciding again every time reported (issue 26)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from remedy.decisions.caps import load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.whatif.deciding import decide
from remedy.whatif.parallel import decide_many
from remedy.whatif.paths import set_path
from remedy.whatif.replay import LoggedIncident, PoolLimit, spend
from remedy.whatif.scoring import CachingScorer
from tests.factories import default_caps, default_catalog, default_rules
from training.simulator import random_incident

CURRENCIES = ("EUR", "USD", "GBP", "JPY")


@pytest.mark.parametrize(
    ("capacity", "pool"),
    [
        ({"manager": 1}, 10**6),
        ({"manager": 1, "executive": 0}, 10**6),
        ({"manager": 1}, 2000),  # the pool runs out too: most re-decisions would be in vain
    ],
)
def test_skipping_hopeless_redecisions_changes_no_report(capacity, pool):
    """Tight contact capacity over 300 incidents: the same report; with a pool that runs out,
    fewer re-decisions (a lowered requirement is decided again, as before)."""
    rng = np.random.default_rng(11)
    start = datetime(2026, 11, 2, tzinfo=UTC)
    logged = [
        LoggedIncident(start + timedelta(minutes=7 * i), random_incident(rng, i))
        for i in range(300)
    ]
    caps_document = default_caps().document
    for level, count in capacity.items():
        caps_document = set_path(caps_document, f"contact_capacity.{level}", count)
    scorer = CachingScorer(HeuristicPrior())
    engine = DecisionEngine(
        default_catalog(),
        default_rules(),
        load_caps(caps_document),
        PlanRanker(scorer.for_pricing("default")),
    )
    (decided,) = decide_many([entry.incident for entry in logged], [engine], scorer.forget)
    assert all(d.contacts is not None for d in decided if d.configured)
    # Today's replay before issue 26: nothing known of the contacts, so every incident with
    # no fitting plan and a level used up is decided again.
    unknown = [dataclasses.replace(d, contacts=None) for d in decided]
    calls = {"new": 0, "old": 0}

    def counting(which):  # type: ignore[no-untyped-def]
        def redecide(incident, used_up):  # type: ignore[no-untyped-def]
            calls[which] += 1
            return decide(engine, incident, used_up=used_up)

        return redecide

    limits = {("default", c): PoolLimit("month", Decimal(pool)) for c in CURRENCIES}
    new = spend(logged, decided, limits, engine.caps, counting("new")).as_dict()
    old = spend(logged, unknown, limits, engine.caps, counting("old")).as_dict()
    assert new == old
    assert new["skipped_for_contact_capacity"] > 0
    assert 0 < calls["new"] <= calls["old"]
    if pool < 10**6:
        assert new["skipped_for_pool"] > 0
        assert calls["new"] < calls["old"] / 2

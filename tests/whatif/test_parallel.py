"""Deciding in forked workers gives what deciding in this process gives, in order."""

from __future__ import annotations

import numpy as np

from remedy.decisions.caps import load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.whatif.parallel import decide_many
from remedy.whatif.paths import set_path
from remedy.whatif.scoring import CachingScorer
from tests.factories import default_caps, default_catalog, default_rules
from training.simulator import random_incident


def test_workers_match_one_process():
    """Two workers, chunks of 7, two engines sharing one caching scorer."""
    rng = np.random.default_rng(1)
    incidents = [random_incident(rng, i) for i in range(40)]
    scorer = CachingScorer(HeuristicPrior())
    catalog, rules = default_catalog(), default_rules()
    strict = load_caps(
        set_path(default_caps().document, "incident_caps.default.loss_multiple", "1")
    )
    engines = [
        DecisionEngine(catalog, rules, caps, PlanRanker(scorer.for_pricing("default")))
        for caps in (default_caps(), strict)
    ]
    steps: list[int] = []
    alone = decide_many(incidents, engines, scorer.forget, workers=1, chunk=7)
    forked = decide_many(incidents, engines, scorer.forget, 2, steps.append, chunk=7)
    assert forked == alone
    assert sum(steps) == 80
    assert [len(d) for d in forked] == [40, 40]


def test_an_engine_given_twice_is_decided_once():
    """Unchanged settings share one pass; progress still counts every engine."""
    rng = np.random.default_rng(2)
    incidents = [random_incident(rng, i) for i in range(10)]
    scorer = CachingScorer(HeuristicPrior())
    engine = DecisionEngine(
        default_catalog(), default_rules(), default_caps(), PlanRanker(scorer.for_pricing("d"))
    )
    steps: list[int] = []
    first, second = decide_many(incidents, [engine, engine], scorer.forget, 1, steps.append)
    assert first is second and len(first) == 10
    assert sum(steps) == 20

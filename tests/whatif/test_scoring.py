"""Replays share model calls and rankings across settings without changing any decision."""

from __future__ import annotations

from decimal import Decimal

from remedy.decisions.caps import load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.whatif.parallel import decide_many
from remedy.whatif.scoring import CachingScorer
from tests.factories import default_catalog, default_document, default_rules, make_incident

INCIDENTS = [
    make_incident(severity=s, fault_type=f, loss_amount=loss, customer_id=f"c{s}{f}{loss}")
    for s in (1, 3, 5)
    for f in ("company", "customer")
    for loss in ("12.00", "240.00")
]


class CountingPrior(HeuristicPrior):
    """The heuristic prior, counting the rows it is asked to score."""

    def __init__(self) -> None:
        self.rows = 0

    def predict(self, incident, plans):  # type: ignore[no-untyped-def]
        self.rows += len(plans)
        return super().predict(incident, plans)


def engine_with(
    cache: CachingScorer, pricing: str, loss_multiple: str = "2", max_extras: int = 2
) -> DecisionEngine:
    """An engine on the bundled documents with the default loss multiple and plan size given."""
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = loss_multiple
    caps["incident_caps"]["overrides"] = []
    caps["max_extras"] = max_extras
    catalog = default_catalog()
    ranker = PlanRanker(cache.for_pricing(pricing))
    return DecisionEngine(catalog, default_rules(catalog), load_caps(caps), ranker)


def summary(result):  # type: ignore[no-untyped-def]
    """What a decision says, comparable across engines."""
    return [
        (c.plan_id, c.scored.expected_net_value, c.dropped_reason, c.requires_approval)
        for c in result.candidates
    ]


def test_engines_differing_in_caps_share_the_ranking_and_decide_as_alone():
    """A shared ranking guarded by each engine equals that engine's own decision."""
    prior = CountingPrior()
    cache = CachingScorer(prior)
    multiples = ("0.5", "2", "4")
    engines = [engine_with(cache, "p", loss_multiple=m) for m in multiples]
    alone = [engine_with(CachingScorer(HeuristicPrior()), "p", loss_multiple=m) for m in multiples]
    differing = 0
    for incident in INCIDENTS:
        for engine, own in zip(engines, alone, strict=True):
            shared = engine.guard(incident, cache.ranked(engine, incident))
            assert summary(shared) == summary(own.decide(incident))
        ranked = cache.ranked(engines[0], incident)
        assert all(cache.ranked(e, incident) is ranked for e in engines)
        kept = [len(e.guard(incident, ranked).kept) for e in engines]
        assert kept == sorted(kept)  # a higher cap keeps at least as many plans
        differing += kept[0] < kept[-1]
        cache.forget()
    assert differing >= len(INCIDENTS) // 2  # the caps really differ
    # Each incident's plans were scored once, not once per engine.
    assert prior.rows == sum(len(engines[0].rank(i).scored) for i in INCIDENTS)


def test_other_pricing_or_max_extras_is_ranked_on_its_own():
    """Different rules/catalog (pricing) or plan sizes never share a ranking."""
    cache = CachingScorer(HeuristicPrior())
    incident = INCIDENTS[0]
    base = engine_with(cache, "p")
    other_pricing = engine_with(cache, "q")
    fewer_extras = engine_with(cache, "p", max_extras=1)
    ranked = cache.ranked(base, incident)
    assert cache.ranked(other_pricing, incident) is not ranked
    smaller = cache.ranked(fewer_extras, incident)
    assert smaller is not ranked
    assert len(smaller.scored) < len(ranked.scored)
    outside = DecisionEngine(base.catalog, base.rules, base.caps, PlanRanker(HeuristicPrior()))
    assert cache.ranked(outside, incident) is not ranked
    assert Decimal(0) <= ranked.scored[-1].p_stay <= Decimal(1)


def test_replays_with_a_shared_ranking_decide_as_without():
    """decide_many with `rank=CachingScorer.ranked` gives the same compact decisions."""
    multiples = ("0.5", "2", "4")
    shared = CachingScorer(HeuristicPrior())
    alone = CachingScorer(HeuristicPrior())
    with_memo = decide_many(
        INCIDENTS,
        [engine_with(shared, "p", m) for m in multiples],
        shared.forget,
        rank=shared.ranked,
    )
    without = decide_many(INCIDENTS, [engine_with(alone, "p", m) for m in multiples], alone.forget)
    assert with_memo == without
    assert any(a != b for a, b in zip(with_memo[0], with_memo[2], strict=True))

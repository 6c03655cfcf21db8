"""The replay at array speed reports exactly what today's replay reports (issue 26).

Today's replay: incident by incident, one model call per incident, and every incident with no
fitting plan and a contact level used up decided again. The new one: a chunk of incidents
ranked at once (one model call per chunk, scikit-learn's compiled walk over its rows, feature
columns as arrays, rules remembered per shape) and decided again only when a requirement is
lowered. Same seeded month, the bundled model, a tight proposal: identical reports.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from models.artifact import load_artifact
from models.scorer import ModelScorer
from remedy.decisions.caps import load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import PlanRanker
from remedy.whatif.parallel import decide_many, spend_many
from remedy.whatif.replay import LoggedIncident, PoolLimit
from remedy.whatif.scoring import CachingScorer
from tests.factories import default_catalog, default_document, default_rules
from training.simulator import FX_PER_USD, random_incident

ARTIFACTS = Path(__file__).resolve().parents[2] / "models" / "artifacts"
MONTH = datetime(2026, 10, 1, tzinfo=UTC)
INCIDENTS = 1500


def _month() -> list[LoggedIncident]:
    rng = np.random.default_rng(26)
    step = timedelta(days=31) / INCIDENTS
    return [
        LoggedIncident(
            MONTH + step * n, dataclasses.replace(random_incident(rng, n), team=f"t{n % 4}")
        )
        for n in range(INCIDENTS)
    ]


def _engines(scorer: CachingScorer) -> list[DecisionEngine]:
    strict = default_document("caps")
    strict["incident_caps"]["default"]["loss_multiple"] = "1.5"
    strict["contact_capacity"] = {"manager": 2, "executive": 1, "leader": 1}
    catalog = default_catalog()
    rules = default_rules(catalog)
    return [
        DecisionEngine(catalog, rules, load_caps(caps), PlanRanker(scorer.for_pricing("p")))
        for caps in (default_document("caps"), strict)
    ]


def test_the_array_replay_reports_what_todays_replay_reports():
    logged = _month()
    incidents = [entry.incident for entry in logged]
    scorer = CachingScorer(ModelScorer(load_artifact(ARTIFACTS / "sim-4")))
    engines = _engines(scorer)
    today = decide_many(incidents, engines, scorer.forget, rank=scorer.ranked)
    arrays = decide_many(
        incidents, engines, scorer.forget, rank=scorer.ranked, rank_many=scorer.ranked_many
    )
    assert arrays == today  # every kept plan, cost, value and approval, incident by incident
    today = [[dataclasses.replace(d, contacts=None) for d in each] for each in today]
    pools = {
        ("default", c): PoolLimit("month", Decimal(2000) * Decimal(str(rate)))
        for c, rate in FX_PER_USD.items()
    }
    limits = [pools, pools]
    old = spend_many(logged, today, limits, engines)
    new = spend_many(logged, arrays, limits, engines)
    assert new == old
    assert new[1]["skipped_for_pool"] > 0 and new[1]["skipped_for_contact_capacity"] > 0
    assert new[0] != new[1]

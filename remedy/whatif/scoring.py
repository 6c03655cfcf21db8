"""A scorer that remembers its predictions and rankings, so replays of one incident share work.

A what-if compares several settings over the same incidents (current, proposed, every sweep
point). Caps change which plans survive, not how a plan is scored, so most candidate rows repeat
across settings: each (incident, priced actions) row is predicted once and looked up after, and
engines that differ only in caps (every sweep point of a caps sweep) share the whole ranking
(rules, planner, model): only the incident cap is applied per engine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine, Ranked
from remedy.decisions.ranker import PlanScorer
from remedy.decisions.value import sees_word_of_mouth
from remedy.domain import Incident, Plan


class CachingScorer:
    """Wraps a `PlanScorer`; predicts only rows it has not seen, in one call per decision.

    Rows are remembered per `pricing` (a key naming the catalog and rules: they set the prices
    and face values) and incident, by plan id, so a lookup hashes one short string per plan.
    """

    def __init__(self, scorer: PlanScorer) -> None:
        """Wrap `scorer` (its version is this scorer's version)."""
        self.scorer = scorer
        self.version = scorer.version
        # a model that learned word of mouth must not get the assumption on top (value.py)
        self.sees_word_of_mouth = sees_word_of_mouth(scorer)
        self._rows: dict[tuple[str, Incident], dict[str, tuple[float, float]]] = {}
        self._ranked: dict[tuple[str, int, Incident], Ranked] = {}

    def for_pricing(self, pricing: str) -> _PricedView:
        """Return a `PlanScorer` whose rows are remembered under `pricing`."""
        return _PricedView(self, pricing)

    def predict_priced(
        self, pricing: str, incident: Incident, plans: Sequence[Plan]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals per plan, predicting the unseen ones."""
        rows = self._rows.setdefault((pricing, incident), {})
        missing = [plan for plan in plans if plan.plan_id not in rows]
        if len(missing) == len(plans):
            missing = plans  # the planner's own list: its layout builds features as arrays
        if missing:
            p_stay, referrals = self.scorer.predict(incident, missing)
            for plan, p, r in zip(missing, p_stay.tolist(), referrals.tolist(), strict=True):
                rows[plan.plan_id] = (p, r)
        if not plans:
            return np.empty(0), np.empty(0)
        table = np.array([rows[plan.plan_id] for plan in plans], dtype=float)
        return table[:, 0], table[:, 1]

    def predict_priced_many(
        self, pricing: str, decisions: Sequence[tuple[Incident, Sequence[Plan]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`predict_priced` for many incidents, predicting every unseen row in one call."""
        wanted: list[tuple[Incident, Sequence[Plan]]] = []
        for incident, plans in decisions:
            rows = self._rows.setdefault((pricing, incident), {})
            missing = [plan for plan in plans if plan.plan_id not in rows]
            if missing:
                wanted.append((incident, plans if len(missing) == len(plans) else missing))
        batch = getattr(self.scorer, "predict_many", None)
        found = batch(wanted) if batch else [self.scorer.predict(i, p) for i, p in wanted]
        for (incident, plans), (p_stay, referrals) in zip(wanted, found, strict=True):
            rows = self._rows[(pricing, incident)]
            for plan, p, r in zip(plans, p_stay.tolist(), referrals.tolist(), strict=True):
                rows[plan.plan_id] = (p, r)
        return [self.predict_priced(pricing, incident, plans) for incident, plans in decisions]

    def ranked_many(
        self, engine: DecisionEngine, incidents: Sequence[Incident]
    ) -> list[Ranked | CurrencyNotConfigured]:
        """`ranked` for a chunk of incidents: those an alike engine ranked are looked up, the
        rest ranked together (`DecisionEngine.rank_many`: one model call)."""
        view = engine.ranker.scorer
        if not isinstance(view, _PricedView) or view.cache is not self:
            return engine.rank_many(incidents)
        keys = [(view.pricing, engine.caps.max_extras, incident) for incident in incidents]
        todo = [n for n, key in enumerate(keys) if key not in self._ranked]
        for n, ranked in zip(todo, engine.rank_many([incidents[n] for n in todo]), strict=True):
            self._ranked[keys[n]] = ranked  # type: ignore[assignment]
        return [self._ranked[key] for key in keys]

    def ranked(self, engine: DecisionEngine, incident: Incident) -> Ranked:
        """Return `engine.rank(incident)`, shared by engines that rank alike.

        Alike: scoring through this cache under the same pricing (catalog and rules) with the
        same `max_extras`; an engine scoring elsewhere is ranked on its own.
        """
        view = engine.ranker.scorer
        if not isinstance(view, _PricedView) or view.cache is not self:
            return engine.rank(incident)
        key = (view.pricing, engine.caps.max_extras, incident)
        ranked = self._ranked.get(key)
        if ranked is None:
            ranked = self._ranked[key] = engine.rank(incident)
        return ranked

    def forget(self) -> None:
        """Drop every remembered row and ranking (after each incident, or a replay)."""
        self._rows.clear()
        self._ranked.clear()


class _PricedView:
    """The `PlanScorer` one engine uses: its pricing key and the shared memory."""

    def __init__(self, cache: CachingScorer, pricing: str) -> None:
        self.cache = cache
        self.pricing = pricing
        self.sees_word_of_mouth = cache.sees_word_of_mouth
        self.version = cache.version

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals per plan."""
        return self.cache.predict_priced(self.pricing, incident, plans)

    def predict_many(
        self, decisions: Sequence[tuple[Incident, Sequence[Plan]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """`predict` for many incidents (one call to the wrapped scorer)."""
        return self.cache.predict_priced_many(self.pricing, decisions)

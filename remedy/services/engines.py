"""Build decision engines for the active configuration and cache them per version set.

The active versions are cached per cache generation (remedy/store/generation.py) until the next
scheduled version takes effect: a new catalog, rules or caps version moves the generation, so
every worker picks it up on its next request, and a request between changes asks nothing. The
validated catalog, rules and caps are rebuilt only when a version or the model changes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import PlanRanker, PlanScorer, ValueSettings
from remedy.services.configs import ActiveConfig, ConfigService
from remedy.store import generation
from remedy.store.generation import GenerationCache
from remedy.store.tables import utcnow


class EngineProvider:
    """Returns a DecisionEngine for the active versions, cached per (versions, model)."""

    def __init__(self, scorer_for: Callable[[Session], PlanScorer], values: ValueSettings) -> None:
        """Keep the function that yields the current scorer, and the value settings."""
        self._scorer_for = scorer_for
        self._values = values
        self._lock = threading.Lock()
        self._cache: dict[tuple, tuple[ActiveConfig, DecisionEngine]] = {}
        self._versions = GenerationCache(max_entries=1)

    @property
    def values(self) -> ValueSettings:
        """How retention, referrals and word of mouth are valued (from the app's config)."""
        return self._values

    def active_versions(self, session: Session, now: datetime | None = None) -> dict[str, int]:
        """The versions in effect now: from the cache while no change is committed or due."""
        now = now or utcnow()
        current = generation.current(session)
        cached = self._versions.get(current, "versions")
        if cached is not None and (cached[1] is None or now < cached[1]):
            return cached[0]
        configs = ConfigService(session)
        versions = configs.active_versions(now)
        # A scheduled version takes effect without a write, so the cache ends when it is due.
        self._versions.put(current, "versions", (versions, configs.next_change(now)))
        return versions

    def engine(self, session: Session, scorer: PlanScorer | None = None) -> DecisionEngine:
        """Return the engine for what is active now, ranking with the promoted model or with
        `scorer` (a challenger's, for a customer on its arm: the same catalog, rules and caps)."""
        versions = self.active_versions(session)
        scorer = scorer or self._scorer_for(session)
        key = (tuple(sorted(versions.items())), scorer.version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached[1]
        active = ConfigService(session).load_active(versions)
        engine = DecisionEngine(
            active.catalog, active.rules, active.caps, PlanRanker(scorer, self._values)
        )
        with self._lock:
            # Keep the newest per model (a champion and a challenger): old versions are not
            # asked for again.
            kept = {k: v for k, v in self._cache.items() if k[0] == key[0]}
            self._cache = {**dict(list(kept.items())[-2:]), key: (active, engine)}
        return engine

    def trial_engine(self, session: Session, proposed: ActiveConfig) -> DecisionEngine:
        """Return an engine for a proposed configuration with the model in use (not cached)."""
        return DecisionEngine(
            proposed.catalog,
            proposed.rules,
            proposed.caps,
            PlanRanker(self._scorer_for(session), self._values),
        )

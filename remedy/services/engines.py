"""Build decision engines for the active configuration and cache them per version set.

A request pays one small query (the active versions); the validated catalog, rules and caps are
rebuilt only when a version changes, so every worker picks up a change on its next request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy.orm import Session

from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import PlanRanker, PlanScorer, ValueSettings
from remedy.services.configs import ActiveConfig, ConfigService


class EngineProvider:
    """Returns a DecisionEngine for the active versions, cached per (versions, model)."""

    def __init__(self, scorer_for: Callable[[Session], PlanScorer], values: ValueSettings) -> None:
        """Keep the function that yields the current scorer, and the value settings."""
        self._scorer_for = scorer_for
        self._values = values
        self._lock = threading.Lock()
        self._cache: dict[tuple, tuple[ActiveConfig, DecisionEngine]] = {}

    @property
    def values(self) -> ValueSettings:
        """How retention, referrals and word of mouth are valued (from the app's config)."""
        return self._values

    def engine(self, session: Session) -> DecisionEngine:
        """Return the engine for what is active now."""
        configs = ConfigService(session)
        versions = configs.active_versions()
        scorer = self._scorer_for(session)
        key = (tuple(sorted(versions.items())), scorer.version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached[1]
        active = configs.load_active(versions)
        engine = DecisionEngine(
            active.catalog, active.rules, active.caps, PlanRanker(scorer, self._values)
        )
        with self._lock:
            # Keep only the newest: old versions are not asked for again.
            self._cache = {key: (active, engine)}
        return engine

    def trial_engine(self, session: Session, proposed: ActiveConfig) -> DecisionEngine:
        """Return an engine for a proposed configuration with the model in use (not cached)."""
        return DecisionEngine(
            proposed.catalog,
            proposed.rules,
            proposed.caps,
            PlanRanker(self._scorer_for(session), self._values),
        )

"""Which PlanScorer ranks plans: the promoted trained model, else the heuristic prior."""

from __future__ import annotations

from sqlalchemy.orm import Session

from remedy.decisions.ranker import HeuristicPrior, PlanScorer


class ScorerProvider:
    """Returns the scorer to use for a request."""

    def __init__(self) -> None:
        """Start with the heuristic prior."""
        self._prior = HeuristicPrior()

    def __call__(self, session: Session) -> PlanScorer:
        """Return the current scorer."""
        return self._prior

"""Logged exploration: sometimes show another eligible plan first, and record how likely it was.

Rule: with probability `rate`, the plan shown first is drawn uniformly from the top
`top_k` plans that passed the guardrails (the greedy best included); otherwise it is the greedy
best. So, with K = min(top_k, number of kept plans):

    P(greedy best first) = 1 - rate + rate / K
    P(any other top-K plan first) = rate / K

Plans outside the top K are never shown first, so their propensity is 0 and off-policy
estimates only trust policies that stay within the top K. Rate 0 turns exploration off
(propensity 1). The propensity of the plan actually shown first is stored with every decision
so training and evaluation can correct for how the data was logged (inverse propensity weights).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class ExplorationPolicy:
    """How often and how widely to explore."""

    rate: Decimal = Decimal("0.10")
    top_k: int = 5

    def __post_init__(self) -> None:
        """Take the rate as an exact Decimal (an int or a string of one too); refuse nonsense."""
        if not isinstance(self.rate, Decimal):
            if isinstance(self.rate, float) or not isinstance(self.rate, int | str):
                raise ValueError("exploration rate must be a Decimal, an int or a decimal string")
            object.__setattr__(self, "rate", Decimal(self.rate))
        if not Decimal(0) <= self.rate <= Decimal(1):
            raise ValueError("exploration rate must be between 0 and 1")
        if self.top_k < 1:
            raise ValueError("exploration top_k must be at least 1")

    def propensities(self, kept: int) -> list[Decimal]:
        """Return the probability of each of the first `kept` ranked plans being shown first.

        Probabilities are rounded to 12 decimal places (1/3 has no exact decimal form).
        """
        if kept == 0:
            return []
        k = min(self.top_k, kept)
        share = (self.rate / k).quantize(PLACES).normalize()
        first = (1 - self.rate + self.rate / k).quantize(PLACES).normalize()
        return [first] + [share] * (k - 1) + [Decimal(0)] * (kept - k)

    def choose_first(self, kept: int, rng: random.Random) -> tuple[int, Decimal]:
        """Return the index (in rank order) of the plan to show first, and its propensity."""
        if kept == 0:
            return 0, Decimal(1)
        probabilities = self.propensities(kept)
        k = min(self.top_k, kept)
        index = rng.randrange(k) if rng.random() < float(self.rate) else 0
        return index, probabilities[index]


def shown_order(ranked_ids: list[str], first: int, limit: int) -> list[str]:
    """Put the chosen plan first, then the rest in rank order, up to `limit`."""
    if not ranked_ids:
        return []
    order = [ranked_ids[first]] + [p for i, p in enumerate(ranked_ids) if i != first]
    return order[:limit]

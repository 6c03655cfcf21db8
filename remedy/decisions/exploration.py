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

**Adaptive** (`closeness` set; `REMEDY_EXPLORATION_CLOSENESS`, default 0.05): exploration goes
where the ranker is unsure. Each other plan i of the pool gets

    P(i first) = (min(1, 2 x rate) / K) x closeness / (closeness + gap_i)
    gap_i      = (value_best - value_i) / max(|value_best|, 1)

(its expected net value's shortfall from the best's, as a share of the best's), and the best
gets the rest. A near tie is explored at up to twice the uniform rate, a plan far behind almost
never (but never exactly never: at least 1e-12, so the support off-policy estimates count on is
still the whole pool). Each probability is rounded down to 12 places and the best's is 1 minus
their sum, and the draw is an integer in [0, 10^12) walked against those exact figures, so the
logged propensity is the probability the plan was drawn with, to the last digit.

No exploration where it hurts (`explorable`): an incident that is severe (4-5), public, a repeat
victim's or a churn threat's is never explored (its best plan is shown first with propensity
exactly 1), and a plan that needs approval is never shown first when the best does not. The
rule above then runs over the top-K plans that may be shown first, so K is the number of those.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from remedy.domain import Incident

PLACES = Decimal("1e-12")
_UNITS = 10**12  # adaptive draws: an integer in [0, 10^12), the propensities' last place
_SMALLEST = Decimal("1e-12")


@dataclass(frozen=True)
class ExplorationPolicy:
    """How often and how widely to explore."""

    rate: Decimal = Decimal("0.10")
    top_k: int = 5
    closeness: Decimal | None = None  # adaptive when set (the module says how); None: uniform

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
        if self.closeness is not None:
            if not isinstance(self.closeness, Decimal):
                object.__setattr__(self, "closeness", Decimal(str(self.closeness)))
            if not self.closeness > 0:
                raise ValueError("exploration closeness must be above 0 (None: uniform)")

    def propensities(
        self,
        kept: int,
        eligible: Sequence[bool] | None = None,
        values: Sequence[Decimal] | None = None,
    ) -> list[Decimal]:
        """Return the probability of each of the first `kept` ranked plans being shown first.

        `eligible` (from `explorable`, one flag per ranked plan; None: all) says which plans may
        be shown first; the others get 0 and K counts only eligible plans within the top K.
        `values` (each ranked plan's expected net value) makes an adaptive policy adapt; without
        them it draws uniformly. Probabilities are rounded to 12 decimal places (1/3 has no
        exact decimal form).
        """
        if kept == 0:
            return []
        pool = self._pool(kept, eligible)
        k = len(pool)
        if k == 1:
            return [Decimal(1)] + [Decimal(0)] * (kept - 1)
        if self.closeness is not None and values is not None:
            return self._adaptive(kept, pool, values)
        share = (self.rate / k).quantize(PLACES).normalize()
        first = (1 - self.rate + self.rate / k).quantize(PLACES).normalize()
        probabilities = [Decimal(0)] * kept
        for index in pool:
            probabilities[index] = share
        probabilities[0] = first
        return probabilities

    def _adaptive(self, kept: int, pool: list[int], values: Sequence[Decimal]) -> list[Decimal]:
        """The adaptive propensities (module docstring): more where values are close."""
        if len(values) != kept:
            raise ValueError("values must have one expected net value per kept plan")
        k = len(pool)
        most = min(Decimal(1), 2 * self.rate) / k
        best = Decimal(values[0])
        scale = max(abs(best), Decimal(1))
        closeness = self.closeness
        assert closeness is not None  # noqa: S101 - only called when adaptive
        probabilities = [Decimal(0)] * kept
        for index in pool[1:]:
            gap = max(Decimal(0), best - Decimal(values[index])) / scale
            share = (most * closeness / (closeness + gap)).quantize(PLACES, rounding=ROUND_DOWN)
            probabilities[index] = max(share, _SMALLEST).normalize()
        probabilities[0] = (1 - sum(probabilities)).normalize()
        return probabilities

    def choose_first(
        self,
        kept: int,
        rng: random.Random,
        eligible: Sequence[bool] | None = None,
        values: Sequence[Decimal] | None = None,
    ) -> tuple[int, Decimal]:
        """Return the index (in rank order) of the plan to show first, and its propensity.

        `eligible` and `values` as for `propensities`; with one eligible plan (the best) no
        random number is drawn and the propensity is exactly 1.
        """
        if kept == 0:
            return 0, Decimal(1)
        pool = self._pool(kept, eligible)
        if len(pool) == 1:
            return 0, Decimal(1)
        if self.closeness is not None and values is not None:
            probabilities = self._adaptive(kept, pool, values)
            draw = rng.randrange(_UNITS)
            reached = 0
            for index in pool[1:]:
                reached += int(probabilities[index] * _UNITS)
                if draw < reached:
                    return index, probabilities[index]
            return 0, probabilities[0]
        probabilities = self.propensities(kept, eligible)
        index = pool[rng.randrange(len(pool))] if rng.random() < float(self.rate) else 0
        return index, probabilities[index]

    def _pool(self, kept: int, eligible: Sequence[bool] | None) -> list[int]:
        """The ranks exploration draws from: the eligible ones of the top K (the best always)."""
        top = range(min(self.top_k, kept))
        if self.rate == 0:
            return [0]
        if eligible is None:
            return list(top)
        if len(eligible) != kept:
            raise ValueError("eligible must have one flag per kept plan")
        return [i for i in top if i == 0 or eligible[i]]


# Why an incident is never explored: each a code and its test. The customer's status (leaving,
# left) joins here as one more line when incidents carry it.
PROTECTIONS: tuple[tuple[str, Callable[[Incident], bool]], ...] = (
    ("severe", lambda incident: incident.severity >= 4),
    ("public", lambda incident: incident.is_public),
    ("repeat_victim", lambda incident: incident.prior_incidents > 0),
    ("churn_threat", lambda incident: incident.churn_threat),
    ("leaving_or_left", lambda incident: incident.customer_status != "active"),
)


def protected_by(incident: Incident) -> list[str]:
    """Return the codes of every reason this incident must not be explored (empty: it may be)."""
    return [code for code, applies in PROTECTIONS if applies(incident)]


def explorable(incident: Incident, requires_approval: Sequence[bool]) -> list[bool]:
    """Say, per ranked kept plan (given by whether each needs approval), whether exploration may
    show it first: only the best for a protected incident; never a plan that needs approval when
    the best does not (the agent would wait for a lead on a plan the ranker did not prefer)."""
    if not requires_approval:
        return []
    if protected_by(incident):
        return [True] + [False] * (len(requires_approval) - 1)
    best_waits = requires_approval[0]
    return [True] + [best_waits or not waits for waits in requires_approval[1:]]


def shown_order(ranked_ids: list[str], first: int, limit: int) -> list[str]:
    """Put the chosen plan first, then the rest in rank order, up to `limit`."""
    if not ranked_ids:
        return []
    order = [ranked_ids[first]] + [p for i, p in enumerate(ranked_ids) if i != first]
    return order[:limit]

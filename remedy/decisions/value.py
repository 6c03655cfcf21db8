"""The one definition of a plan's value, for the ranker, training, the off-policy estimates,
the promotion gate and the model card (issue 25):

    net value = retention value + referral value - cost
              = (stay x horizon_years + referrals x referral_share) x customer_value - cost

`stay` and `referrals` are either predictions (P(stay), E[referrals]: the ranker's expected net
value, a reward model's q(x, a)) or what was observed (retained 0/1, referrals counted: the
reward of a logged decision). The function is linear in both, so its expectation over outcomes
is the expected net value: the ranker ranks by exactly the estimand the gate estimates.

Word of mouth is referral value, counted once. A model that sees who hears the complaint
(feature version 2: public, log reach, customer status) learns it from observed referrals, and
nothing is added on top. A scorer that cannot see it (the heuristic prior, models trained on
feature version 1) gets the documented assumption of docs/promises.md through
`AssumedWordOfMouth`, which moves it into its predictions: a public complaint's audience as
extra referrals, a customer who left as a win-back chance. Either way the value is this
function of the scorer's two outputs, never a second formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from remedy.domain import DEFAULT_REACH, Incident, Plan


class PlanScorer(Protocol):
    """Predicts customer responses to plans; the trained model and the prior both fit."""

    version: str

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals for each plan, as two float arrays."""
        ...


@dataclass(frozen=True)
class ValueSettings:
    """How a retained customer and a referral are valued (configurable, see config.py)."""

    horizon_years: Decimal = Decimal("1")
    referral_share: Decimal = Decimal("0.5")
    # The assumption for scorers that cannot see word of mouth (`AssumedWordOfMouth`).
    word_of_mouth_share: Decimal = Decimal("0.5")
    win_back_share: Decimal = Decimal("0.3")

    def word_of_mouth(self, incident: Incident) -> float:
        """Years of the customer's value a public recovery adds when they stay (0: private;
        a customer who left is heard as a public complainer of the default reach)."""
        left = incident.customer_status == "left"
        if not incident.is_public and not left:
            return 0.0
        reach = incident.reach if incident.reach is not None else DEFAULT_REACH
        return float(self.word_of_mouth_share) * math.log10(1 + max(0, reach))


def gain(stay: Any, referrals: Any, customer_value: float, values: ValueSettings) -> Any:
    """Return retention value + referral value: an *estimate* (a probability or a count times
    a customer's worth), not an amount of money anyone is paid, so it is a float (or an array
    of them, for training's millions of rows). Money stays exact: the ranker rounds this once
    to the currency's minor units and subtracts the plan's cost in integer minor units."""
    return (
        stay * float(values.horizon_years) + referrals * float(values.referral_share)
    ) * customer_value


def net_value(
    stay: Any, referrals: Any, customer_value: float, cost: Any, values: ValueSettings
) -> Any:
    """Return retention value + referral value - cost, as training's statistics use it (floats
    or arrays, in the value's unit; off-policy averages, not bookkeeping).

    Expected when `stay` and `referrals` are predictions, realised when they are outcomes.
    """
    return gain(stay, referrals, customer_value, values) - cost


def sees_word_of_mouth(scorer: object) -> bool:
    """Whether the scorer's predictions already carry word of mouth (learned from referrals)."""
    return bool(getattr(scorer, "sees_word_of_mouth", False))


class AssumedWordOfMouth:
    """A scorer that cannot see word of mouth, with the assumption moved into its predictions.

    The assumption (docs/promises.md, #20): a public complaint heard by `reach` people adds
    `word_of_mouth_share x log10(1 + reach)` years of the customer's value, earned twice: when
    the customer stays and on each referral; a customer who left comes back with
    `win_back_share` of the predicted P(stay) and is heard as a public complainer of the
    default reach. In the value's terms, with w that many years, h the horizon and s the
    referral share:

        P(stay)' = P(stay) x win_back (left) or P(stay)
        E[ref]'  = E[ref] x (1 + w) + P(stay)' x w / s

    so that net_value(P', E') = (P' (h + w) + E s (1 + w)) V - cost, the formula the ranker
    added on top before issue 25. With a referral share of 0 word of mouth has no unit to be
    counted in and is left out.
    """

    sees_word_of_mouth = True

    def __init__(self, scorer: PlanScorer, values: ValueSettings) -> None:
        """Wrap `scorer` with the value settings' assumption."""
        self.scorer = scorer
        self.values = values
        self.version = scorer.version

    def _assume(
        self, incident: Incident, p_stay: np.ndarray, referrals: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the predictions with the assumed word of mouth and win-back moved in."""
        p_stay = np.asarray(p_stay, dtype=float)
        referrals = np.asarray(referrals, dtype=float)
        if incident.customer_status == "left":
            p_stay = p_stay * float(self.values.win_back_share)
        words = self.values.word_of_mouth(incident)
        share = float(self.values.referral_share)
        if words and share > 0:
            referrals = referrals * (1 + words) + p_stay * words / share
        return p_stay, referrals

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and E[referrals] with the assumption, for each plan."""
        return self._assume(incident, *self.scorer.predict(incident, plans))

    def predict_many(
        self, decisions: Sequence[tuple[Incident, Sequence[Plan]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return `predict` for many decisions (one call to the scorer when it batches)."""
        batch = getattr(self.scorer, "predict_many", None)
        found = batch(decisions) if batch else [self.scorer.predict(i, p) for i, p in decisions]
        return [
            self._assume(incident, p, r)
            for (incident, _), (p, r) in zip(decisions, found, strict=True)
        ]


def valued(scorer: PlanScorer, values: ValueSettings) -> PlanScorer:
    """Return the scorer whose two outputs `net_value` values: itself if it sees word of mouth,
    else with the assumption moved in. Every caller that values plans goes through this."""
    if sees_word_of_mouth(scorer) or isinstance(scorer, AssumedWordOfMouth):
        return scorer
    return AssumedWordOfMouth(scorer, values)

"""Rank plans by expected net value for the company.

    expected_net_value = (P(stay) x horizon_years + E[referrals] x referral_share)
                         x customer_value - cost

the one definition of value (remedy/decisions/value.py `net_value`), which training's reward,
the off-policy estimates, the promotion gate and the model card use as well. `customer_value`
is the customer's annual value, so `horizon_years` says how many years of it a retained
customer is worth, and `referral_share` what one referred customer is worth as a share of it.
A `PlanScorer` supplies P(stay) and E[referrals] for every candidate in one vectorised call:
the heuristic prior below until a trained model (models/) is loaded.

Word of mouth is referral value, counted once. A model trained on feature version 2 sees
whether the complaint is public, its audience (log reach) and where the customer stands, and
learns from observed referrals what a public recovery spreads, both ways. For a scorer that
cannot see that (the prior; models trained on feature version 1) the documented assumption
(docs/promises.md, #20) is moved into its predictions by `AssumedWordOfMouth` (value.py): an
unhappy experience is retold to about twice as many people as a happy one, so winning a
public complainer back is worth more than their own spend, growing slowly with the audience
(log10: ten times the followers adds one `word_of_mouth_share` of the customer's annual
value), earned when they stay and on each referral; a customer who already left
(`customer_status: left`) is won back with `win_back_share` of the predicted P(stay) and heard
as a public complainer of the default reach (100). Before issue 25 that assumption was added
here on top of every scorer, and a model that learned referrals from public complaints had them
counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from remedy.decisions.value import PlanScorer, ValueSettings, gain, valued
from remedy.domain import FIX_KINDS, FaultType, Incident, Kind, Plan, contact_rank
from remedy.ledger.pacing import paced_minor
from remedy.money import minor_exponent, to_minor

__all__ = ["HeuristicPrior", "PlanRanker", "PlanScorer", "ScoredPlan", "ValueSettings"]


@dataclass(frozen=True)
class ScoredPlan:
    """A plan with its predicted response and expected net value."""

    plan: Plan
    p_stay: Decimal
    referrals: Decimal
    expected_net_value: Decimal


class PlanRanker:
    """Scores candidate plans with a `PlanScorer` and orders them by expected net value.

    Expected net value is an estimate: the model's gain is computed in floating point and
    rounded to the currency's minor unit, then the cost, exact in minor units, is subtracted.
    Probabilities are kept to six decimals.
    """

    def __init__(self, scorer: PlanScorer, values: ValueSettings | None = None) -> None:
        """Keep the scorer and value settings."""
        self.scorer = scorer
        self.values = values or ValueSettings()
        # What `net_value` values: the scorer itself, or with the word-of-mouth assumption
        # moved in when it cannot see who hears the complaint (value.py `valued`).
        self._valued = valued(scorer, self.values)

    def score(
        self, incident: Incident, plans: Sequence[Plan], cost_price: Decimal = Decimal(1)
    ) -> list[ScoredPlan]:
        """Score every plan; `cost_price` > 1 makes cost dearer (budget pacing's shadow price)."""
        if not plans:
            return []
        return self._scored(incident, plans, *self._valued.predict(incident, plans), cost_price)

    def rank_many(
        self,
        decisions: Sequence[tuple[Incident, Sequence[Plan]]],
        cost_price: Decimal = Decimal(1),
    ) -> list[list[ScoredPlan]]:
        """`rank` for many incidents with one call to the scorer (a what-if's chunk): the
        same numbers, since a scorer's `predict_many` gives each incident what `predict`
        does (models/scorer.py)."""
        batch = getattr(self._valued, "predict_many", None)
        wanted = [(incident, plans) for incident, plans in decisions if plans]
        found = batch(wanted) if batch else [self._valued.predict(i, p) for i, p in wanted]
        predicted = iter(found)
        return [
            self._sorted(self._scored(incident, plans, *next(predicted), cost_price))
            if plans
            else []
            for incident, plans in decisions
        ]

    def _scored(
        self,
        incident: Incident,
        plans: Sequence[Plan],
        p_stay: np.ndarray,
        referrals: np.ndarray,
        cost_price: Decimal,
    ) -> list[ScoredPlan]:
        """Value every plan from its predicted P(stay) and referrals."""
        p_stay = np.round(np.asarray(p_stay, dtype=float), 6)
        referrals = np.round(np.asarray(referrals, dtype=float), 6)
        exponent = minor_exponent(incident.currency)
        value_minor = float(incident.customer_value) * 10**exponent
        # The gain is the model's estimate (a float); the cost is money, exact in minor units,
        # its overdelivery part priced up by pacing's shadow price (never the fix: what we give
        # back is owed however fast the pool is spent).
        currency = incident.currency
        cost_minor = [to_minor(p.total_cost, currency) for p in plans]
        if cost_price != 1:
            cost_minor = [
                paced_minor(cost, to_minor(p.fix_cost, currency), cost_price)
                for cost, p in zip(cost_minor, plans, strict=True)
            ]
        estimate = gain(p_stay, referrals, value_minor, self.values)
        env_minor = np.rint(estimate).astype(np.int64) - np.array(cost_minor, dtype=np.int64)
        unit = Decimal(1).scaleb(-exponent)
        # Python floats and ints (`tolist`) format and convert faster than NumPy scalars, to
        # the same text and the same Decimals.
        return [
            ScoredPlan(plan, Decimal(f"{p:.6f}"), Decimal(f"{r:.6f}"), Decimal(env) * unit)
            for plan, p, r, env in zip(
                plans, p_stay.tolist(), referrals.tolist(), env_minor.tolist(), strict=True
            )
        ]

    def rank(
        self, incident: Incident, plans: Sequence[Plan], cost_price: Decimal = Decimal(1)
    ) -> list[ScoredPlan]:
        """Score and sort best first; ties go to the cheaper, then the shorter plan."""
        return self._sorted(self.score(incident, plans, cost_price))

    @staticmethod
    def _sorted(scored: list[ScoredPlan]) -> list[ScoredPlan]:
        """Best first; ties go to the cheaper, then the shorter plan."""
        return sorted(
            scored,
            key=lambda s: (-s.expected_net_value, s.plan.total_cost, len(s.plan.actions)),
        )


# Weights of the heuristic prior; each cites the row of docs/research.md it rests on (#n).
_FAULT_WEIGHT = {  # #8: compensation buys loyalty mainly when the firm is responsible
    FaultType.COMPANY: 1.0,
    FaultType.PARTNER: 0.8,
    FaultType.UNKNOWN: 0.6,
    FaultType.CUSTOMER: 0.3,
}


class HeuristicPrior:
    """A documented, hand-set response model used until a trained model exists.

    - Baseline stay probability falls with severity and a churn threat (#10, #25; TARP #18/#19:
      unresolved customers return far less often than resolved ones).
    - A fix closes a large share of the gap to full retention (#17: 90% vs 22% return).
    - Compensation relative to the loss helps with diminishing returns (#3 concave case) and
      turns against itself past about 150% of the loss (#4 inverted U, #6).
    - Compensation counts fully only where the company is at fault (#8).
    - An apology helps where the company or a partner is at fault (#13, #14: r = .23).
    - Personal contact helps more for severe failures and valuable customers (#23, #26).
    """

    version = "heuristic-prior-1"

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals for each plan (vectorised over plans)."""
        loss = float(incident.loss_amount) or 1.0
        base = 0.92 - 0.07 * (incident.severity - 1) - (0.15 if incident.churn_threat else 0.0)
        # #10: earlier complaints aggravate churn; a repeat victim starts further from staying.
        base -= 0.05 * min(incident.prior_incidents, 4)
        base = max(0.1, base)
        fault_weight = _FAULT_WEIGHT[incident.fault_type]
        at_fault = incident.fault_type in (FaultType.COMPANY, FaultType.PARTNER)
        value_ratio = float(incident.customer_value) / loss
        ratio = np.array([float(p.total_value) for p in plans]) / loss
        has_fix = np.array([not FIX_KINDS.isdisjoint(p.kinds) for p in plans])
        has_apology = np.array([Kind.APOLOGY in p.kinds for p in plans])
        rank = np.array([contact_rank(p.contact_level) for p in plans], dtype=float)
        compensation = 1.0 - np.exp(-ratio / 0.9)
        # slope past 150% ~ the marginal gain there, so the curve peaks at about 1.5x (#4)
        compensation -= 0.2 * np.clip(ratio - 1.5, 0.0, None)
        lift = 0.35 * has_fix + 0.35 * fault_weight * compensation
        if at_fault:
            lift += 0.08 * has_apology
        contact_weight = incident.severity / 5 * min(1.0, 0.5 + value_ratio / 20)
        lift += 0.05 * rank * contact_weight
        lift = np.clip(lift, -0.2, 0.95)
        p_stay = np.clip(base + (1 - base) * lift, 0.01, 0.99)
        delight = np.clip(np.minimum(ratio, 3.0) - 1.0, 0.0, None) + 0.5 * rank
        referrals = 0.02 + 0.03 * delight * fault_weight
        return p_stay, referrals

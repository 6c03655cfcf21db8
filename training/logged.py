"""The logged data set: one decision with its outcome, its reward in US dollars, its arrays.

Rewards are the realised net value `(retained x horizon + referrals x referral_share) x
customer_value - cost`, converted to US dollars at the exchange rates training is given (the
`exchange_rates` document finance sets, remedy/services/exchange_rates.py), so currencies can
be averaged; a decision in a currency without a rate gets NaN and is counted, never dropped
silently (`currencies_without_rate`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from models.features import feature_rows
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.domain import Incident, Plan
from training.logs import LoggedRows
from training.simulator import FX_PER_USD

Rates = Mapping[str, float]  # units of each currency per US dollar


@dataclass
class LoggedDecision:
    """One decision with an outcome, ready for training and evaluation."""

    incident: Incident
    candidates: list[Plan]  # the plans that passed the guardrails, in rank order
    logged_index: int  # position of the accepted plan among the candidates
    propensity: float | None  # P(the accepted plan was shown first), if it was shown first
    retained: bool
    referrals: int
    decided_at: datetime


def _reward(d: LoggedDecision, values: ValueSettings, rates: Rates = FX_PER_USD) -> float:
    """Realised net value of the logged plan, in USD (NaN for currencies without a rate)."""
    rate = rates.get(d.incident.currency)
    if rate is None:
        return float("nan")
    gain = d.retained * float(values.horizon_years) + d.referrals * float(values.referral_share)
    cost = float(d.candidates[d.logged_index].total_cost)
    return (gain * float(d.incident.customer_value) - cost) / rate


def as_rows(
    logged: Sequence[LoggedDecision], values: ValueSettings, rates: Rates = FX_PER_USD
) -> LoggedRows:
    """Turn logged decisions into the arrays the fitting code takes."""
    features = feature_rows((d.incident, d.candidates[d.logged_index]) for d in logged)
    return LoggedRows(
        features=features,
        retained=np.array([d.retained for d in logged], dtype=bool),
        referrals=np.array([d.referrals for d in logged], dtype=int),
        propensity=np.array([d.propensity or np.nan for d in logged], dtype=float),
        reward=np.array([_reward(d, values, rates) for d in logged], dtype=float),
        decided_at=np.array(
            [d.decided_at.astimezone(UTC).replace(tzinfo=None) for d in logged],
            dtype="datetime64[s]",
        ),
        logged_index=np.array([d.logged_index for d in logged], dtype=int),
    )


def _net_values(
    scorer: PlanScorer, d: LoggedDecision, values: ValueSettings, rates: Rates = FX_PER_USD
) -> np.ndarray:
    """Return the scorer's expected net value (USD) of each candidate plan of a decision."""
    p_stay, referrals = scorer.predict(d.incident, d.candidates)
    gain = p_stay * float(values.horizon_years) + referrals * float(values.referral_share)
    costs = np.array([float(p.total_cost) for p in d.candidates])
    return (gain * float(d.incident.customer_value) - costs) / rates[d.incident.currency]


_BATCH = 250  # decisions per model call when a scorer can batch (ModelScorer.predict_many)


def net_values_many(
    scorer: PlanScorer,
    decisions: Sequence[LoggedDecision],
    values: ValueSettings,
    rates: Rates = FX_PER_USD,
) -> list[np.ndarray]:
    """Return `_net_values` for many decisions, one model call per batch when the scorer can.

    The same numbers as calling `_net_values` per decision; offline evaluation of tens of
    thousands of decisions spends its time in per-call overhead otherwise.
    """
    batch = getattr(scorer, "predict_many", None)
    if batch is None:
        return [_net_values(scorer, d, values, rates) for d in decisions]
    horizon, share = float(values.horizon_years), float(values.referral_share)
    out: list[np.ndarray] = []
    for start in range(0, len(decisions), _BATCH):
        chunk = decisions[start : start + _BATCH]
        predictions = batch([(d.incident, d.candidates) for d in chunk])
        for d, (p_stay, referrals) in zip(chunk, predictions, strict=True):
            gain = p_stay * horizon + referrals * share
            costs = np.array([float(p.total_cost) for p in d.candidates])
            out.append(
                (gain * float(d.incident.customer_value) - costs) / rates[d.incident.currency]
            )
    return out


def currencies_without_rate(
    logged: Sequence[LoggedDecision], rates: Rates = FX_PER_USD
) -> dict[str, int]:
    """Count logged decisions per currency that has no exchange rate to US dollars."""
    missing = Counter(d.incident.currency for d in logged if d.incident.currency not in rates)
    return dict(sorted(missing.items()))

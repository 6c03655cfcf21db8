"""The logged data set: one decision with its outcome, its reward in US dollars, its arrays.

Rewards are the realised net value `(retained x horizon + referrals x referral_share) x
customer_value - cost` (remedy/decisions/value.py `net_value`: the ranker's own definition,
outcomes in place of predictions), in US dollars at the exchange rates training is given (the
`exchange_rates` document finance sets, remedy/services/exchange_rates.py), so currencies can
be averaged; a decision in a currency without a rate gets NaN and is counted, never dropped
silently (`currencies_without_rate`).

Two plans matter per decision, and they need not be the same one (issue 13):

- the plan *shown first* (`shown_index`): the action for off-policy evaluation. Exploration
  (remedy/decisions/exploration.py) chose it at random with a known probability, stored with
  every decision (`propensity`), whichever plan the agent then accepted;
- the plan *accepted* (`logged_index`): what the customer got. Its features are the training
  row, and its cost is in the reward, because the reward is what the decision realised.

The evaluated action is therefore "show this plan first", agents' acceptance included: a
policy's value is what showing its pick first earns. Keeping a propensity only when the accepted
plan was the one shown first, as before, selected rows on the agents' behaviour and biased IPS
whenever agents accept some plans more readily than others (the issue's toy flipped the order of
two policies; tests/training/test_shown_first.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from models.features import FeatureDefinition, feature_rows
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.record import DecisionRecord
from remedy.decisions.value import net_value, valued
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
    # Position of the plan shown first among the candidates: the evaluated action. None only
    # when no plan was shown or the shown-first plan is not among the kept candidates (not
    # something the service writes; an old or hand-edited record): such a decision trains the
    # model but is left out of the policy values, counted (training/holdout.py).
    shown_index: int | None
    propensity: float | None  # P(the plan at shown_index was shown first); None with it
    retained: bool
    referrals: int
    decided_at: datetime
    # Every candidate's feature rows, per feature definition (`candidate_rows`).
    _rows: dict[int, np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def accepted_first(self) -> bool:
        """The agent accepted the plan that was shown first."""
        return self.shown_index == self.logged_index

    def candidate_rows(self, definition: FeatureDefinition) -> np.ndarray:
        """Return every candidate's feature row by `definition`, built on first use and kept.

        The holdout's evaluation scores the same candidates with the candidate model, the
        current one and five reward models, and their logged plans again: building each
        decision's rows once, not once per model call, is most of what scoring them costs
        in Python. A row depends on its own plan only, so any subset reads the same bits.
        """
        rows = self._rows.get(definition.version)
        if rows is None:
            rows = definition.matrix(self.incident, self.candidates)
            self._rows[definition.version] = rows
        return rows


def from_record(
    record: DecisionRecord,
    accepted: str,
    propensity: str | None,
    retained: bool,
    referrals: int | None,
    decided_at: datetime,
) -> LoggedDecision | None:
    """Return a stored decision with its outcome as a `LoggedDecision` (None: nothing to learn).

    `accepted` is the outcome's plan id and `propensity` the decision's stored propensity of the
    plan shown first (`Decision.propensity`, a decimal string). A decision whose accepted plan is
    no longer among the kept candidates gives None, as before: neither a training row nor a
    reward can be built for it. One whose shown-first plan is missing keeps `shown_index` None.
    """
    kept = record.offered
    ids = [c.plan_id for c in kept]
    if accepted not in ids:
        return None
    first = record.shown[0] if record.shown else None
    shown_index = ids.index(first) if first in ids else None
    return LoggedDecision(
        incident=record.incident,
        candidates=[record.plan(c) for c in kept],
        logged_index=ids.index(accepted),
        shown_index=shown_index,
        propensity=(
            float(Decimal(propensity))
            if shown_index is not None and propensity is not None
            else None
        ),
        retained=retained,
        referrals=referrals or 0,
        decided_at=decided_at,
    )


def _reward(d: LoggedDecision, values: ValueSettings, rates: Rates = FX_PER_USD) -> float:
    """Realised net value of the logged plan, in USD (NaN for currencies without a rate)."""
    rate = rates.get(d.incident.currency)
    if rate is None:
        return float("nan")
    cost = float(d.candidates[d.logged_index].total_cost)
    value = net_value(d.retained, d.referrals, float(d.incident.customer_value), cost, values)
    return float(value) / rate


def as_rows(
    logged: Sequence[LoggedDecision], values: ValueSettings, rates: Rates = FX_PER_USD
) -> LoggedRows:
    """Turn logged decisions into the arrays the fitting code takes.

    The rows are the accepted plans, so their `propensity` is that of the accepted plan where
    it was also the plan shown first and NaN otherwise, as `read_rows` streams it (nothing fits
    on it; the off-policy evaluation takes the shown-first propensity from the decisions).
    """
    features = feature_rows((d.incident, d.candidates[d.logged_index]) for d in logged)
    return LoggedRows(
        features=features,
        retained=np.array([d.retained for d in logged], dtype=bool),
        referrals=np.array([d.referrals for d in logged], dtype=int),
        propensity=np.array(
            [d.propensity if d.accepted_first and d.propensity else np.nan for d in logged],
            dtype=float,
        ),
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
    p_stay, referrals = valued(scorer, values).predict(d.incident, d.candidates)
    costs = np.array([float(p.total_cost) for p in d.candidates])
    value = net_value(p_stay, referrals, float(d.incident.customer_value), costs, values)
    return value / rates[d.incident.currency]


_BATCH = 250  # decisions per model call when a scorer can batch (ModelScorer.predict_many)


def predict_positions(
    scorer: PlanScorer,
    decisions: Sequence[LoggedDecision],
    positions: Sequence[Sequence[int]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return the scorer's P(stay) and E[referrals] of the candidates at each decision's
    positions, in one model call for all of them when the scorer can.

    A scorer that predicts from feature rows of a known definition (`ModelScorer`:
    `predict_rows` and `features`) gets each decision's rows built once and kept
    (`LoggedDecision.candidate_rows`); another gets `predict_many`, or `predict` per decision.
    The same numbers either way: a row's prediction is the same bits in any batch.
    """
    rows_of = getattr(scorer, "predict_rows", None)
    definition = getattr(scorer, "features", None)
    if rows_of is not None and isinstance(definition, FeatureDefinition):
        blocks = [
            d.candidate_rows(definition)[list(at)]
            for d, at in zip(decisions, positions, strict=True)
        ]
        if not any(len(block) for block in blocks):
            return [(np.empty(0), np.empty(0)) for _ in blocks]
        p_stay, referrals = rows_of(np.vstack(blocks))
        bounds = np.cumsum([0] + [len(block) for block in blocks])
        return [
            (p_stay[lo:hi], referrals[lo:hi])
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    pairs = [
        (d.incident, [d.candidates[i] for i in at])
        for d, at in zip(decisions, positions, strict=True)
    ]
    batch = getattr(scorer, "predict_many", None)
    return batch(pairs) if batch is not None else [scorer.predict(i, p) for i, p in pairs]


def net_values_many(
    scorer: PlanScorer,
    decisions: Sequence[LoggedDecision],
    values: ValueSettings,
    rates: Rates = FX_PER_USD,
    positions: Sequence[Sequence[int]] | None = None,
) -> list[np.ndarray]:
    """Return `_net_values` for many decisions, one model call per batch when the scorer can.

    The same numbers as calling `_net_values` per decision; offline evaluation of tens of
    thousands of decisions spends its time in per-call overhead otherwise. With `positions`
    (one sequence of candidate positions per decision), only those plans are scored and the
    others are NaN: a reward model needs the plans the policies pick and the logged one, not the
    fifty-odd candidates each decision kept.
    """
    wanted = (
        [list(p) for p in positions]
        if positions is not None
        else [range(len(d.candidates)) for d in decisions]
    )
    scorer = valued(scorer, values)  # as the ranker values it: word of mouth counted once
    out: list[np.ndarray] = []
    for start in range(0, len(decisions), _BATCH):
        chunk = decisions[start : start + _BATCH]
        picked = wanted[start : start + _BATCH]
        predictions = predict_positions(scorer, chunk, picked)
        for d, at, (p_stay, referrals) in zip(chunk, picked, predictions, strict=True):
            costs = np.array([float(d.candidates[i].total_cost) for i in at])
            value = net_value(p_stay, referrals, float(d.incident.customer_value), costs, values)
            net = value / rates[d.incident.currency]
            if positions is None:
                out.append(net)
                continue
            full = np.full(len(d.candidates), np.nan)
            full[list(at)] = net
            out.append(full)
    return out


def currencies_without_rate(
    logged: Sequence[LoggedDecision], rates: Rates = FX_PER_USD
) -> dict[str, int]:
    """Count logged decisions per currency that has no exchange rate to US dollars."""
    missing = Counter(d.incident.currency for d in logged if d.incident.currency not in rates)
    return dict(sorted(missing.items()))

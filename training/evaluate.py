"""Policy values: what a scorer's choices are worth, under the simulator and off-policy.

The simulator knows the true P(stay) and referrals of every plan, so on simulated incidents the
value of a policy (rank by a scorer's expected net value, take the best) can be computed exactly;
off-policy estimates from the logs can then be checked against it before they are trusted on
real logs, where no truth exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.value import net_value, valued
from remedy.domain import Incident, Plan
from training.candidates import CandidatesFn, candidate_plans
from training.logs import LoggedRows, greedy_index
from training.offpolicy import Estimate, ips
from training.simulator import FX_PER_USD, true_net_value

_BATCH = 250  # incidents scored per model call by scorers that can batch (ModelScorer)


@dataclass(frozen=True)
class PolicyEvaluation:
    """Each policy's pick per incident, its true value, and a reward model's estimates."""

    picks: dict[str, np.ndarray]  # policy -> index of the chosen plan among the candidates
    true_value: dict[str, np.ndarray]  # policy -> true net value of its pick (USD)
    predicted_pick: dict[str, np.ndarray]  # policy -> reward model's net value of its pick (USD)
    predicted_logged: np.ndarray | None  # reward model's net value of the logged plan (USD)
    true_logged: np.ndarray | None  # true net value of the logged plan (USD)
    oracle: np.ndarray  # true net value of the best candidate, on the first `oracle_sample`

    def mean_true_values(self) -> dict[str, float]:
        """Return each policy's mean true net value per decision (USD)."""
        return {name: float(v.mean()) for name, v in self.true_value.items()}


def _net_values_usd(
    scorer: PlanScorer,
    decisions: Sequence[tuple[Incident, Sequence[Plan]]],
    values: ValueSettings,
) -> list[np.ndarray]:
    """Return the scorer's expected net value (USD) of every candidate of every decision."""
    scorer = valued(scorer, values)  # as the ranker values it (remedy/decisions/value.py)
    batch = getattr(scorer, "predict_many", None)
    predictions = batch(decisions) if batch else [scorer.predict(i, p) for i, p in decisions]
    out = []
    for (incident, plans), (p_stay, referrals) in zip(decisions, predictions, strict=True):
        costs = np.fromiter((float(p.total_cost) for p in plans), float, len(plans))
        value = net_value(p_stay, referrals, float(incident.customer_value), costs, values)
        out.append(value / FX_PER_USD[incident.currency])
    return out


def evaluate_policies(
    incidents: Sequence[Incident],
    scorers: Mapping[str, PlanScorer],
    *,
    reward_model: str | None = None,
    logged_index: np.ndarray | None = None,
    candidates_fn: CandidatesFn = candidate_plans,
    values: ValueSettings | None = None,
    oracle_sample: int = 0,
    progress: bool = False,
) -> PolicyEvaluation:
    """Let each scorer pick its best plan per incident; value the picks under the simulator.

    `reward_model` names the scorer whose predictions serve as the doubly robust estimator's
    reward model (at the picks and, given `logged_index`, at the logged plans).
    """
    values = values or ValueSettings()
    n = len(incidents)
    picks = {name: np.empty(n, dtype=np.int64) for name in scorers}
    truth = {name: np.empty(n) for name in scorers}
    predicted_pick = {name: np.empty(n) for name in scorers} if reward_model else {}
    predicted_logged = np.empty(n) if reward_model and logged_index is not None else None
    true_logged = np.empty(n) if logged_index is not None else None
    oracle = np.empty(min(oracle_sample, n))
    with tqdm(total=n, desc="evaluating policies", disable=not progress) as bar:
        for start in range(0, n, _BATCH):
            chunk = incidents[start : start + _BATCH]
            decisions = [(incident, candidates_fn(incident)) for incident in chunk]
            env = {name: _net_values_usd(s, decisions, values) for name, s in scorers.items()}
            for j, (incident, plans) in enumerate(decisions):
                i = start + j
                for name in scorers:
                    k = greedy_index(env[name][j], plans)
                    picks[name][i] = k
                    truth[name][i] = true_net_value(incident, plans[k], values)
                    if reward_model:
                        predicted_pick[name][i] = env[reward_model][j][k]
                if logged_index is not None and true_logged is not None:
                    true_logged[i] = true_net_value(incident, plans[logged_index[i]], values)
                    if predicted_logged is not None:
                        predicted_logged[i] = env[str(reward_model)][j][logged_index[i]]
                if i < len(oracle):
                    oracle[i] = max(true_net_value(incident, plan, values) for plan in plans)
            bar.update(len(chunk))
    return PolicyEvaluation(picks, truth, predicted_pick, predicted_logged, true_logged, oracle)


def logged_value(holdout: LoggedRows, *, n_boot: int = 500, seed: int = 0) -> Estimate:
    """Return the logging policy's own mean reward on the holdout (on-policy, no weighting)."""
    on_policy = ips(
        holdout.reward, holdout.propensity, holdout.propensity, n_boot=n_boot, seed=seed
    )
    return Estimate(
        "on_policy",
        on_policy.value,
        on_policy.low,
        on_policy.high,
        on_policy.n,
        on_policy.confidence,
    )

"""The log both learners of benchmarks/policy.py learn from: the service's candidates for
simulated incidents, the plan shown first drawn by the service's exploration over the newest
bundled model's ranking (its propensity logged), and the simulator's outcome."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from models.artifact import load_artifact
from models.features import feature_matrix
from models.scorer import ModelScorer
from remedy.decisions.exploration import ExplorationPolicy
from remedy.decisions.ranker import ValueSettings
from remedy.domain import Incident, Plan
from remedy.services.model_registry import bundled_folders
from training.logs import expected_net_values, greedy_index
from training.service_candidates import service_candidates
from training.simulator import random_incident, realized_net_value, simulate_outcome

VALUES = ValueSettings()


@dataclass
class Logged:
    """One logged decision: its incident, candidates, their features, the plan shown, outcome."""

    incident: Incident
    plans: list[Plan]
    features: np.ndarray
    shown: int
    propensity: float
    retained: bool
    referrals: int
    reward: float  # realised net value, USD


@functools.lru_cache(maxsize=1)
def bundled_scorer() -> ModelScorer:
    """The newest bundled model: the ranking a fresh install logs with."""
    return ModelScorer(load_artifact(bundled_folders()[-1]))


def logging_probabilities(
    incident: Incident, plans: list[Plan], rule: ExplorationPolicy
) -> np.ndarray:
    """The service's exploration rule over the bundled model's ranking: P(each plan first)."""
    env = expected_net_values(bundled_scorer(), incident, plans, VALUES)
    best = greedy_index(env, plans)
    order = [best] + [int(i) for i in np.argsort(-env, kind="stable") if i != best]
    probs = np.zeros(len(plans))
    for rank, p in zip(order, rule.propensities(len(plans)), strict=True):
        probs[rank] = float(p)
    return probs / probs.sum()


def draw_log(n: int, seed: int, rule: ExplorationPolicy) -> list[Logged]:
    """Log `n` decisions of the service's candidates under its exploration rule."""
    rng = np.random.default_rng(seed)
    log: list[Logged] = []
    while len(log) < n:
        incident = random_incident(rng, index=len(log))
        plans = service_candidates(incident)
        if not plans:
            continue
        probs = logging_probabilities(incident, plans, rule)
        shown = int(rng.choice(len(plans), p=probs))
        retained, referrals = simulate_outcome(incident, plans[shown], rng)
        reward = realized_net_value(incident, plans[shown], retained, referrals)
        log.append(
            Logged(
                incident,
                plans,
                feature_matrix(incident, plans),
                shown,
                float(probs[shown]),
                retained,
                referrals,
                reward,
            )
        )
    return log

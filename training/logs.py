"""Logged decisions: an exploring policy, simulated logs, and the arrays training reads.

A log row is what production will record for every decision: the features of the plan shown,
the propensity with which the logging policy chose it among the candidates, and the outcome
(retained, referrals). Rows are kept in decision order so that the holdout is the latest slice.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from models.features import FEATURE_NAMES, feature_rows
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.value import net_value, valued
from remedy.domain import Incident, Plan
from training.candidates import CandidatesFn, candidate_plans
from training.simulator import random_incident, realized_net_value, simulate_outcome

START = np.datetime64("2025-01-01T00:00:00", "s")
_CHUNK = 2_000  # decisions per unit of work: small enough to spread over workers


def expected_net_values(
    scorer: PlanScorer,
    incident: Incident,
    plans: Sequence[Plan],
    values: ValueSettings | None = None,
) -> np.ndarray:
    """Return the ranker's expected net value of each plan, in floats, in one scorer call."""
    # PlanRanker does this in Decimal per plan, which is right for the service and far too slow
    # for simulating hundreds of thousands of decisions; the ordering is the same.
    values = values or ValueSettings()
    p_stay, referrals = valued(scorer, values).predict(incident, plans)
    costs = np.fromiter((float(p.total_cost) for p in plans), float, len(plans))
    return net_value(p_stay, referrals, float(incident.customer_value), costs, values)


def greedy_index(env: np.ndarray, plans: Sequence[Plan]) -> int:
    """Return the index of the best plan; ties go to the cheaper, then shorter plan (PlanRanker)."""
    best = np.flatnonzero(env >= env.max() - 1e-9)
    if len(best) == 1:
        return int(best[0])
    return int(min(best, key=lambda i: (plans[i].total_cost, len(plans[i].actions))))


@dataclass(frozen=True)
class EpsilonGreedy:
    """Show the scorer's best plan, or with probability `epsilon` a uniformly random one."""

    scorer: PlanScorer
    epsilon: float = 0.3
    values: ValueSettings = field(default_factory=ValueSettings)

    def __post_init__(self) -> None:
        """Refuse an exploration rate that is not a probability."""
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon must lie in [0, 1], got {self.epsilon}")

    def probabilities(self, incident: Incident, plans: Sequence[Plan]) -> np.ndarray:
        """Return the probability of showing each plan."""
        probs = np.full(len(plans), self.epsilon / len(plans))
        env = expected_net_values(self.scorer, incident, plans, self.values)
        probs[greedy_index(env, plans)] += 1.0 - self.epsilon
        return probs


@dataclass(frozen=True)
class LoggedRows:
    """Logged decisions in decision order, as arrays (one row per decision)."""

    features: np.ndarray  # (n, len(FEATURE_NAMES)) floats, models.features order
    retained: np.ndarray  # bool
    referrals: np.ndarray  # int
    propensity: np.ndarray  # probability the logging policy gave the plan shown
    reward: np.ndarray  # realised net value in US dollars (simulated world's rates)
    decided_at: np.ndarray  # datetime64[s]
    logged_index: np.ndarray  # index of the plan shown within candidates_fn(incident)
    incidents: tuple[Incident, ...] | None = None  # kept only when asked (memory)

    def __len__(self) -> int:
        """Return the number of logged decisions."""
        return len(self.retained)

    def take(self, rows: slice | np.ndarray) -> LoggedRows:
        """Return the selected rows."""
        incidents = None
        if self.incidents is not None:
            picked = np.arange(len(self))[rows]
            incidents = tuple(self.incidents[i] for i in picked)
        return replace(
            self,
            features=self.features[rows],
            retained=self.retained[rows],
            referrals=self.referrals[rows],
            propensity=self.propensity[rows],
            reward=self.reward[rows],
            decided_at=self.decided_at[rows],
            logged_index=self.logged_index[rows],
            incidents=incidents,
        )

    def window(self) -> dict[str, str | int]:
        """Return the time window and row count (for the model card)."""
        return {
            "start": str(self.decided_at.min()) if len(self) else "",
            "end": str(self.decided_at.max()) if len(self) else "",
            "rows": len(self),
        }


def time_split(rows: LoggedRows, holdout_fraction: float = 0.2) -> tuple[LoggedRows, LoggedRows]:
    """Split into an earlier training part and the latest `holdout_fraction` as holdout."""
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must lie strictly between 0 and 1")
    order = np.argsort(rows.decided_at, kind="stable")
    cut = int(round(len(rows) * (1.0 - holdout_fraction)))
    return rows.take(order[:cut]), rows.take(order[cut:])


@dataclass(frozen=True)
class _Chunk:
    """One chunk of simulated decisions (a unit of work for a worker process)."""

    first: int
    count: int
    seed: np.random.SeedSequence
    policy: EpsilonGreedy | None
    candidates_fn: CandidatesFn
    keep_incidents: bool


def _simulate_chunk(chunk: _Chunk) -> LoggedRows:
    """Simulate one chunk of decisions with its own random stream."""
    rng = np.random.default_rng(chunk.seed)
    n = chunk.count
    records: list[tuple[Incident, Plan]] = []
    retained = np.empty(n, dtype=bool)
    referrals = np.empty(n, dtype=np.int64)
    propensity = np.empty(n)
    reward = np.empty(n)
    logged_index = np.empty(n, dtype=np.int64)
    for i in range(n):
        incident = random_incident(rng, index=chunk.first + i)
        plans = chunk.candidates_fn(incident)
        if chunk.policy is None:
            chosen = int(rng.integers(len(plans)))
            propensity[i] = 1.0 / len(plans)
        else:
            probs = chunk.policy.probabilities(incident, plans)
            chosen = int(rng.choice(len(plans), p=probs))
            propensity[i] = probs[chosen]
        plan = plans[chosen]
        retained[i], referrals[i] = simulate_outcome(incident, plan, rng)
        reward[i] = realized_net_value(incident, plan, bool(retained[i]), int(referrals[i]))
        logged_index[i] = chosen
        records.append((incident, plan))
    return LoggedRows(
        features=feature_rows(records).reshape(n, len(FEATURE_NAMES)),
        retained=retained,
        referrals=referrals,
        propensity=propensity,
        reward=reward,
        decided_at=np.empty(n, dtype="datetime64[s]"),  # stamped by simulate_logs
        logged_index=logged_index,
        incidents=tuple(incident for incident, _ in records) if chunk.keep_incidents else None,
    )


def concat(parts: Sequence[LoggedRows]) -> LoggedRows:
    """Join logged rows end to end (incidents kept only if every part kept them)."""
    keep = all(part.incidents is not None for part in parts)
    return LoggedRows(
        features=np.concatenate([part.features for part in parts]),
        retained=np.concatenate([part.retained for part in parts]),
        referrals=np.concatenate([part.referrals for part in parts]),
        propensity=np.concatenate([part.propensity for part in parts]),
        reward=np.concatenate([part.reward for part in parts]),
        decided_at=np.concatenate([part.decided_at for part in parts]),
        logged_index=np.concatenate([part.logged_index for part in parts]),
        incidents=tuple(i for part in parts for i in part.incidents or ()) if keep else None,
    )


def simulate_logs(
    n_decisions: int,
    *,
    seed: int = 0,
    policy: EpsilonGreedy | None = None,
    candidates_fn: CandidatesFn = candidate_plans,
    decisions_per_day: int = 2000,
    keep_incidents: bool = False,
    n_jobs: int = 1,
    progress: bool = True,
) -> LoggedRows:
    """Simulate `n_decisions` logged decisions; `policy=None` logs uniformly at random.

    The result depends on `seed` only, not on `n_jobs`: every chunk of decisions draws from its
    own stream spawned from the seed. With `n_jobs > 1`, `policy` and `candidates_fn` must be
    picklable (module-level functions, not lambdas).
    """
    if n_decisions < 1:
        raise ValueError("n_decisions must be positive")
    starts = range(0, n_decisions, _CHUNK)
    seeds = np.random.SeedSequence(seed).spawn(len(starts))
    chunks = [
        _Chunk(first, min(_CHUNK, n_decisions - first), s, policy, candidates_fn, keep_incidents)
        for first, s in zip(starts, seeds, strict=True)
    ]
    bar = tqdm(total=n_decisions, desc="simulating decisions", disable=not progress)
    parts: list[LoggedRows] = []
    with bar:
        if n_jobs == 1:
            for chunk in chunks:
                parts.append(_simulate_chunk(chunk))
                bar.update(chunk.count)
        else:
            # fork: workers inherit the imported modules instead of importing them again
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
                for chunk, part in zip(chunks, pool.map(_simulate_chunk, chunks), strict=True):
                    parts.append(part)
                    bar.update(chunk.count)
    rows = concat(parts)
    seconds = (np.arange(n_decisions) * 86_400) // max(1, decisions_per_day)
    return replace(rows, decided_at=START + seconds.astype("timedelta64[s]"))

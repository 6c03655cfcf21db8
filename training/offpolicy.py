"""Off-policy evaluation: what a new policy would have earned, from decisions logged by another.

Each logged decision i has a context x_i, the action a_i the logging policy chose with
propensity mu_i = mu(a_i | x_i), and the reward r_i that followed. A target policy pi gives the
probability pi_i = pi(a_i | x_i) of the same action (1 or 0 for a deterministic policy), and a
reward model gives q_i = q(x_i, a_i) and v_i = sum_a pi(a | x_i) q(x_i, a) (for a deterministic
policy, q at the action it would choose).

- IPS (inverse propensity scoring): mean(w * r) with w = pi / mu. Unbiased when every action the
  target may choose had mu > 0; high variance when w is large.
- SNIPS (self-normalised IPS): sum(w * r) / sum(w). Slightly biased, much lower variance.
- Doubly robust: mean(v + w * (r - q)). Unbiased if either the propensities or the reward model
  are right, and lower variance than IPS when the reward model is decent.

Each estimator returns the estimate with a percentile bootstrap confidence interval, seeded so
that the model card's numbers are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm

_BOOTSTRAP_CELLS = 4_000_000  # resample in chunks of at most this many indices (memory bound)


@dataclass(frozen=True)
class Estimate:
    """A policy value estimate with its bootstrap confidence interval."""

    method: str
    value: float
    low: float
    high: float
    n: int
    confidence: float

    def as_dict(self) -> dict[str, float | int | str]:
        """Return a JSON-ready dict (for the model card)."""
        return asdict(self)


def _as_arrays(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    """Return the arrays as 1-D floats of one length, refusing bad propensities."""
    out = {name: np.asarray(a, dtype=float).ravel() for name, a in arrays.items()}
    lengths = {len(a) for a in out.values()}
    if len(lengths) != 1:
        raise ValueError(f"arrays differ in length: { {k: len(v) for k, v in out.items()} }")
    if lengths == {0}:
        raise ValueError("no logged decisions to evaluate")
    for name, a in out.items():
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} has non-finite values")
    if "propensities" in out:
        p = out["propensities"]
        if np.any(p <= 0) or np.any(p > 1):
            raise ValueError("propensities must lie in (0, 1]")
    if "target_probs" in out:
        t = out["target_probs"]
        if np.any(t < 0) or np.any(t > 1):
            raise ValueError("target probabilities must lie in [0, 1]")
    return out


def _bootstrap(
    statistic: Callable[[np.ndarray], np.ndarray],
    n: int,
    n_boot: int,
    confidence: float,
    seed: int,
    progress: bool,
) -> tuple[float, float]:
    """Return the percentile interval of `statistic` over `n_boot` resamples of n rows.

    `statistic` takes an (m, n) array of row indices and returns m values.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    values = np.empty(n_boot)
    with tqdm(total=n_boot, desc="bootstrap", disable=not progress, leave=False) as bar:
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            values[start : start + m] = statistic(rng.integers(0, n, size=(m, n)))
            bar.update(m)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def ips(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> Estimate:
    """Estimate the target policy's mean reward by inverse propensity scoring."""
    a = _as_arrays(rewards=rewards, propensities=propensities, target_probs=target_probs)
    terms = a["target_probs"] / a["propensities"] * a["rewards"]
    low, high = _bootstrap(
        lambda idx: terms[idx].mean(axis=1), len(terms), n_boot, confidence, seed, progress
    )
    return Estimate("ips", float(terms.mean()), low, high, len(terms), confidence)


def snips(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> Estimate:
    """Estimate the target policy's mean reward by self-normalised IPS."""
    a = _as_arrays(rewards=rewards, propensities=propensities, target_probs=target_probs)
    weights = a["target_probs"] / a["propensities"]
    weighted = weights * a["rewards"]
    if weights.sum() == 0:
        raise ValueError("the target policy never chooses a logged action: SNIPS is undefined")

    def statistic(idx: np.ndarray) -> np.ndarray:
        """Return SNIPS on each resample (0 where a resample has no weight at all)."""
        total = weights[idx].sum(axis=1)
        return np.divide(weighted[idx].sum(axis=1), total, out=np.zeros(len(idx)), where=total > 0)

    low, high = _bootstrap(statistic, len(weights), n_boot, confidence, seed, progress)
    return Estimate(
        "snips", float(weighted.sum() / weights.sum()), low, high, len(weights), confidence
    )


def doubly_robust(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    predicted_logged: np.ndarray,
    predicted_target: np.ndarray,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> Estimate:
    """Estimate the target policy's mean reward by the doubly robust estimator.

    `predicted_logged` is the reward model at the logged action, q(x, a); `predicted_target` its
    expectation under the target policy, sum_a pi(a | x) q(x, a).
    """
    a = _as_arrays(
        rewards=rewards,
        propensities=propensities,
        target_probs=target_probs,
        predicted_logged=predicted_logged,
        predicted_target=predicted_target,
    )
    weights = a["target_probs"] / a["propensities"]
    terms = a["predicted_target"] + weights * (a["rewards"] - a["predicted_logged"])
    low, high = _bootstrap(
        lambda idx: terms[idx].mean(axis=1), len(terms), n_boot, confidence, seed, progress
    )
    return Estimate("doubly_robust", float(terms.mean()), low, high, len(terms), confidence)

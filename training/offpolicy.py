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
that the model card's numbers are reproducible. A resample in which an estimator is undefined
(SNIPS on a resample where the target never agrees with the log: 0 / 0) is skipped, never
counted as 0: a 0 there would drag one end of the interval to 0.

Heavy tails: a row logged with a small propensity gets a large weight and can carry the whole
estimate. `doubly_robust` takes `max_weight` and then uses clipped weights min(w, M) in its
correction term (weight clipping, not switch-DR: clipping keeps every row's correction, only
shrunk, where switch drops it and leaves those rows to the reward model alone). The bias it
adds on a clipped row is (w - M)(r - q), small when the reward model is honest (cross-fitted,
see training/from_logs.py). `MAX_WEIGHT` = 50 = 1 / 0.02: the default exploration (10% over
the top 5 plans) logs an explored plan with propensity 0.02, so the service's own logs are never
clipped; a thinner logging policy's rows count for at most 50 rows each. IPS and SNIPS stay
unclipped: they are the unbiased cross-check the promotion gate holds DR against.

`compare` evaluates two target policies on the same rows, paired: the difference (new minus old)
of each estimator with a bootstrap interval from the same resamples, plus the overlap of each
policy with the log (share of rows where it may choose the logged action) and the effective
sample size (Kish) of its importance weights. training/gate.py decides promotion from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from tqdm.auto import tqdm

_BOOTSTRAP_CELLS = 4_000_000  # resample in chunks of at most this many indices (memory bound)
MAX_WEIGHT = 50.0  # clip for doubly robust weights: 1 / the default exploration's 0.02


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

    `statistic` takes an (m, n) array of row indices and returns m values, NaN where the
    statistic is undefined on a resample; those resamples are skipped.
    """
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOTSTRAP_CELLS // n)
    values = np.empty(n_boot)
    with tqdm(total=n_boot, desc="bootstrap", disable=not progress, leave=False) as bar:
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            values[start : start + m] = statistic(rng.integers(0, n, size=(m, n)))
            bar.update(m)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        raise ValueError("the statistic is undefined on every bootstrap resample")
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def _snips_statistic(
    weights: np.ndarray, rewards: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """Return SNIPS on each resample, NaN where a resample has no weight at all (0 / 0)."""
    weighted = weights * rewards

    def statistic(idx: np.ndarray) -> np.ndarray:
        """Return sum(w * r) / sum(w) per resample row."""
        total = weights[idx].sum(axis=1)
        out = np.full(len(idx), np.nan)
        np.divide(weighted[idx].sum(axis=1), total, out=out, where=total > 0)
        return out

    return statistic


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
    if weights.sum() == 0:
        raise ValueError("the target policy never chooses a logged action: SNIPS is undefined")
    statistic = _snips_statistic(weights, a["rewards"])
    low, high = _bootstrap(statistic, len(weights), n_boot, confidence, seed, progress)
    value = float((weights * a["rewards"]).sum() / weights.sum())
    return Estimate("snips", value, low, high, len(weights), confidence)


def doubly_robust(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_probs: np.ndarray,
    predicted_logged: np.ndarray,
    predicted_target: np.ndarray,
    *,
    max_weight: float | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    progress: bool = False,
) -> Estimate:
    """Estimate the target policy's mean reward by the doubly robust estimator.

    `predicted_logged` is the reward model at the logged action, q(x, a); `predicted_target` its
    expectation under the target policy, sum_a pi(a | x) q(x, a). `max_weight` clips the
    importance weights of the correction term (None: no clipping).
    """
    a = _as_arrays(
        rewards=rewards,
        propensities=propensities,
        target_probs=target_probs,
        predicted_logged=predicted_logged,
        predicted_target=predicted_target,
    )
    weights = _weights(a["propensities"], a["target_probs"], max_weight)
    terms = a["predicted_target"] + weights * (a["rewards"] - a["predicted_logged"])
    low, high = _bootstrap(
        lambda idx: terms[idx].mean(axis=1), len(terms), n_boot, confidence, seed, progress
    )
    return Estimate("doubly_robust", float(terms.mean()), low, high, len(terms), confidence)


def _weights(
    propensities: np.ndarray, target_probs: np.ndarray, max_weight: float | None
) -> np.ndarray:
    """Return the importance weights pi / mu, clipped at `max_weight` when given."""
    weights = target_probs / propensities
    return weights if max_weight is None else np.minimum(weights, max_weight)


def effective_sample_size(weights: np.ndarray) -> float:
    """Return Kish's effective sample size (sum w)^2 / sum w^2 of importance weights (0 if none).

    n equal weights give n; one row carrying all the weight gives 1. It is how many rows an
    importance-weighted mean is really worth.
    """
    w = np.asarray(weights, dtype=float)
    squares = float((w * w).sum())
    return float(w.sum()) ** 2 / squares if squares > 0 else 0.0


@dataclass(frozen=True)
class Overlap:
    """How well the log covers a target policy."""

    agreement: float  # share of rows where the policy may choose the logged action (pi > 0)
    ess: float  # Kish effective sample size of the (unclipped) importance weights
    clipped: float  # share of rows whose weight exceeds the doubly robust clip

    def as_dict(self) -> dict[str, float]:
        """Return a JSON-ready dict (for the model card)."""
        return asdict(self)


def overlap(propensities: np.ndarray, target_probs: np.ndarray, max_weight: float) -> Overlap:
    """Return a target policy's overlap with the log."""
    a = _as_arrays(propensities=propensities, target_probs=target_probs)
    weights = a["target_probs"] / a["propensities"]
    return Overlap(
        agreement=float((a["target_probs"] > 0).mean()),
        ess=effective_sample_size(weights),
        clipped=float((weights > max_weight).mean()),
    )


@dataclass(frozen=True)
class Comparison:
    """Two target policies on the same logged rows: paired differences and each one's overlap."""

    differences: tuple[Estimate, ...]  # new minus old, per estimator (same resamples for both)
    new: Overlap
    old: Overlap
    max_weight: float

    def difference(self, method: str) -> Estimate | None:
        """Return the difference by one estimator, if it was defined."""
        return next((e for e in self.differences if e.method == method), None)

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (for the model card)."""
        return {
            "differences": [e.as_dict() for e in self.differences],
            "new": self.new.as_dict(),
            "old": self.old.as_dict(),
            "max_weight": self.max_weight,
        }


def compare(
    rewards: np.ndarray,
    propensities: np.ndarray,
    target_new: np.ndarray,
    target_old: np.ndarray,
    predicted_logged: np.ndarray,
    predicted_new: np.ndarray,
    predicted_old: np.ndarray,
    *,
    max_weight: float = MAX_WEIGHT,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare two target policies on the same rows: IPS, SNIPS and DR of new minus old.

    Every bootstrap resample draws one set of rows and evaluates both policies on it, so the
    interval is that of the difference itself (paired), far narrower than two separate intervals
    when the policies often agree. SNIPS is left out when either policy never agrees with the log.
    """
    a = _as_arrays(
        rewards=rewards,
        propensities=propensities,
        target_probs=target_new,
        target_old=target_old,
        predicted_logged=predicted_logged,
        predicted_new=predicted_new,
        predicted_old=predicted_old,
    )
    if np.any(a["target_old"] < 0) or np.any(a["target_old"] > 1):
        raise ValueError("target probabilities must lie in [0, 1]")
    r, mu = a["rewards"], a["propensities"]
    w_new, w_old = a["target_probs"] / mu, a["target_old"] / mu
    n = len(r)

    def paired(method: str, terms: np.ndarray) -> Estimate:
        """Return the mean difference of per-row terms with its bootstrap interval."""
        low, high = _bootstrap(
            lambda idx: terms[idx].mean(axis=1), n, n_boot, confidence, seed, False
        )
        return Estimate(method, float(terms.mean()), low, high, n, confidence)

    residual = r - a["predicted_logged"]
    dr_new = a["predicted_new"] + np.minimum(w_new, max_weight) * residual
    dr_old = a["predicted_old"] + np.minimum(w_old, max_weight) * residual
    differences = [paired("ips", (w_new - w_old) * r)]
    if w_new.sum() > 0 and w_old.sum() > 0:
        snips_new, snips_old = _snips_statistic(w_new, r), _snips_statistic(w_old, r)
        low, high = _bootstrap(
            lambda idx: snips_new(idx) - snips_old(idx), n, n_boot, confidence, seed, False
        )
        value = float((w_new * r).sum() / w_new.sum() - (w_old * r).sum() / w_old.sum())
        differences.append(Estimate("snips", value, low, high, n, confidence))
    differences.append(paired("doubly_robust", dr_new - dr_old))
    return Comparison(
        differences=tuple(differences),
        new=overlap(mu, a["target_probs"], max_weight),
        old=overlap(mu, a["target_old"], max_weight),
        max_weight=max_weight,
    )

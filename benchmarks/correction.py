"""Could a leaner learner find the world's shift? A small correction of the prior's logit.

    nice python benchmarks/correction.py [--seeds 0 1 2] [--eval 600]

A probe for issue 25, not a part of the product. In a world drawn per seed (training/world.py,
as benchmarks/challenger.py), the bundled prior logs 10,000 decisions; instead of refitting the
whole ranker, a penalised logistic regression learns a *correction* of the prior's P(stay):
logit p = logit p_prior + w . z, where z holds the plan's columns (items, amounts, contact rank,
fix kind) and their products with severity, repeat victim and the customer's worth. A few dozen
weights: if the logs carried the world's shift, this is where a few thousand outcomes would find
it. Printed per seed, size and penalty: the true value per decision of the corrected ranking
against the prior (90% interval), beside the ceiling of benchmarks/challenger.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.challenger import draw_log, evaluation, interval, picks_ranker  # noqa: E402
from benchmarks.policy_learners import ACTION  # noqa: E402
from benchmarks.policy_log import bundled_scorer  # noqa: E402
from models.features import FEATURE_NAMES, feature_matrix  # noqa: E402
from training.world import World  # noqa: E402

PLAN = [FEATURE_NAMES.index(n) for n in ACTION if n != "fix_kind"]
FIX = FEATURE_NAMES.index("fix_kind")
SEVERITY, PRIOR, WORTH = (
    FEATURE_NAMES.index(n) for n in ("severity", "prior_incidents", "log_value_ratio")
)


def correction_columns(x: np.ndarray) -> np.ndarray:
    """The plan's columns, and their products with severity, repeat victim and worth."""
    plan = np.hstack(
        [x[:, PLAN].astype(float)] + [(x[:, FIX] == k).astype(float)[:, None] for k in range(1, 4)]
    )
    severity = (x[:, SEVERITY : SEVERITY + 1].astype(float) - 3) / 2
    repeat = (x[:, PRIOR : PRIOR + 1].astype(float) > 0).astype(float)
    worth = x[:, WORTH : WORTH + 1].astype(float) / 5
    return np.hstack([plan, plan * severity, plan * repeat, plan * worth])


class Corrected:
    """The prior's predictions with its P(stay) corrected on the logit scale."""

    def __init__(self, weights: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> None:
        self.weights, self.mean, self.scale = weights, mean, scale
        # its referrals are the prior's, learned with word of mouth: valued as the prior is
        self.sees_word_of_mouth = bundled_scorer().sees_word_of_mouth

    def predict(self, incident, plans) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        p, referrals = bundled_scorer().predict(incident, plans)
        z = (correction_columns(feature_matrix(incident, plans)) - self.mean) / self.scale
        logit = np.log(p / (1 - p)) + z @ self.weights
        return 1 / (1 + np.exp(-logit)), referrals


def fit(log, penalty: float) -> Corrected:  # noqa: ANN001
    """Penalised logistic regression of retention with the prior's logit as offset."""
    shown = np.array([d.features[d.shown] for d in log])
    stayed = np.array([d.retained for d in log], dtype=float)
    p = np.concatenate([bundled_scorer().predict(d.incident, [d.plans[d.shown]])[0] for d in log])
    offset = np.log(p / (1 - p))
    z = correction_columns(shown)
    mean, scale = z.mean(0), z.std(0) + 1e-9
    z = (z - mean) / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        logit = offset + z @ w
        q = 1 / (1 + np.exp(-logit))
        value = np.sum(np.logaddexp(0, logit) - stayed * logit) + penalty * w @ w
        return value, z.T @ (q - stayed) + 2 * penalty * w

    weights = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return Corrected(weights, mean, scale)


def main() -> None:
    """One line per seed, size and penalty."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval", type=int, default=600)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for seed in args.seeds:
        world = World.drawn(seed)
        log = draw_log(10000, seed, world)
        decisions, truth = evaluation(args.eval, seed, world)
        prior = picks_ranker(bundled_scorer(), decisions, truth)
        for size in (3000, 10000):
            for penalty in (3.0, 30.0, 300.0):
                corrected = picks_ranker(fit(log[:size], penalty), decisions, truth)
                print(
                    f"seed {seed} size {size:>5} penalty {penalty:>5}: corrected vs prior "
                    f"{interval(corrected - prior)}",
                    flush=True,
                )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()

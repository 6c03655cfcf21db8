"""Is the newest bundled model's net value right where it matters? Predicted over realised per
segment (public / private, first / repeat victim, each fault), on fresh simulated decisions.

    nice python -m benchmarks.segments [--decisions 4000] [--seed 7] [--model sim-4]

Fresh decisions are logged as the bundle's holdout was (training/bundle.py: the heuristic
prior, epsilon-greedy at 0.3, over the service's own candidates), on a seed the bundle never
saw; the model's expected net value of each logged plan (remedy/decisions/value.py, the ranker's
own) is compared with what the simulated customers realised (`realised`, noisy) and with the
simulator's expectation of it (`truth`, the same plans, no outcome noise). Within 10% of 1 for
public and repeat incidents is issue 25's target. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from models.artifact import load_artifact
from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from remedy.services.model_registry import BUNDLED, bundled_folders
from training.bundle import logged_decisions
from training.holdout_calibration import SEGMENTS, segment_calibration
from training.logs import EpsilonGreedy, simulate_logs
from training.service_candidates import service_candidates
from training.simulator import true_net_value


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default=None, help="a bundled version (default: the newest)")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = BUNDLED / args.model if args.model else bundled_folders()[-1]
    scorer = ModelScorer(load_artifact(folder))
    values = ValueSettings()
    rows = simulate_logs(
        args.decisions,
        seed=args.seed,
        policy=EpsilonGreedy(HeuristicPrior(), 0.3, values),
        candidates_fn=service_candidates,
        keep_incidents=True,
        n_jobs=2,
        progress=False,
    )
    decisions = logged_decisions(rows, service_candidates)
    found = segment_calibration(decisions, scorer, values)
    truth = np.array([true_net_value(d.incident, d.candidates[d.logged_index]) for d in decisions])
    print(f"{scorer.version}, {len(decisions)} decisions, seed {args.seed}")
    print(
        "| segment | rows | predicted | realised | truth | predicted/realised | predicted/truth |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, segment_of in SEGMENTS.items():
        labels = np.array([segment_of(d.incident) for d in decisions])
        for label, cell in found[name].items():
            expected = float(truth[labels == label].mean())
            predicted = float(cell["net_value_predicted"])
            print(
                f"| {label} | {cell['rows']} | {predicted:.1f} | "
                f"{float(cell['net_value_realised']):.1f} | {expected:.1f} | "
                f"{cell['net_value_ratio']:.3f} | {predicted / expected:.3f} |"
            )
    print(f"{time.perf_counter() - started:.0f} s")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

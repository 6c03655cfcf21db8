"""CPU time of the decision pipeline alone (rules, planner, model, guardrails), per decision.

    python benchmarks/pipeline.py [--incidents 600]

Times `DecisionEngine.decide` with `time.process_time` over simulated incidents on the default
documents and the newest bundled model, after 50 warm-up decisions: CPU time is what the
pipeline costs even when other work shares the cores (wall-clock percentiles of the same
pipeline, and of whole requests, are in benchmarks/recommend.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.artifact import load_artifact  # noqa: E402
from models.scorer import ModelScorer  # noqa: E402
from remedy.decisions.ranker import PlanRanker  # noqa: E402
from remedy.services.model_registry import bundled_folders  # noqa: E402
from tests.factories import default_engine  # noqa: E402
from training.simulator import random_incident  # noqa: E402

WARM_UP = 50


def main() -> None:
    """Print p50, p99 and the mean CPU milliseconds per decision."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=600)
    args = parser.parse_args()
    newest = bundled_folders()[-1]
    engine = dataclasses.replace(
        default_engine(), ranker=PlanRanker(ModelScorer(load_artifact(newest)))
    )
    rng = np.random.default_rng(1)
    incidents = [random_incident(rng, i) for i in range(args.incidents)]
    for incident in incidents[:WARM_UP]:
        engine.decide(incident)
    times = []
    for incident in incidents:
        start = time.process_time()
        engine.decide(incident)
        times.append((time.process_time() - start) * 1000)
    times.sort()
    p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
    mean = sum(times) / len(times)
    print(
        f"{newest.name}: CPU ms per decision over {len(times)} incidents: "
        f"p50 {p50:.2f}, p99 {p99:.2f}, mean {mean:.2f}"
    )


if __name__ == "__main__":
    main()

"""CPU time of the config trial that PUT /v1/caps, /v1/rules and /v1/catalog run in the request.

    python benchmarks/config_trial.py [--logged 200]

Decides `--logged` simulated incidents (standing in for the last logged decisions) and the
fixed synthetic set with the default documents and the newest bundled model, exactly as
`remedy.services.config_trial` does (reasons and talking points included), after a warm-up
run; prints CPU and wall seconds of one whole trial.
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
from remedy.services.config_trial import RECENT, TrialIncident, _decide, synthetic  # noqa: E402
from remedy.services.model_registry import bundled_folders  # noqa: E402
from tests.factories import default_engine  # noqa: E402
from training.simulator import random_incident  # noqa: E402


def main() -> None:
    """Print the CPU and wall time of one trial, and how many incidents it decided."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logged", type=int, default=RECENT)
    args = parser.parse_args()
    newest = bundled_folders()[-1]
    engine = dataclasses.replace(
        default_engine(), ranker=PlanRanker(ModelScorer(load_artifact(newest)))
    )
    rng = np.random.default_rng(1)
    logged = [TrialIncident(random_incident(rng, i), f"logged {i}") for i in range(args.logged)]

    def trial() -> int:
        return sum(_decide(engine, t) for t in [*logged, *synthetic(engine)])

    trial()  # warm-up: model and catalogs loaded
    cpu, wall = time.process_time(), time.perf_counter()
    decided = trial()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{newest.name}: one trial decided {decided} incidents "
        f"({args.logged} logged + synthetic) in {cpu:.2f} s CPU, {wall:.2f} s wall"
    )


if __name__ == "__main__":
    main()

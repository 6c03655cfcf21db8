"""What the two-line dominance costs the what-if replay: kept-chain length, no clock.

    python benchmarks/whatif_lines.py [--incidents 400] [--seed 0]

The replay keeps, per incident, only the kept plans no better plan dominates
(remedy/whatif/deciding.py). With pools of two lines a better plan dominates only when its fix
part and the rest each cost no more, so a few more plans stay in each chain. This decides the
simulator's incidents with the default engine twice (one-line and two-line dominance) and
prints the mean and longest chain: spending walks the chain, so its length is the cost.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from remedy.whatif import deciding  # noqa: E402
from tests.factories import default_engine  # noqa: E402
from training.simulator import random_incident  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    engine = default_engine()
    rng = np.random.default_rng(args.seed)
    incidents = [random_incident(rng, i) for i in range(args.incidents)]
    two = [len(deciding.decide(engine, i).kept) for i in incidents]
    by_line = deciding.undominated
    deciding.undominated = lambda plans, shape, fix=None: by_line(plans, shape)  # one line
    try:
        one = [len(deciding.decide(engine, i).kept) for i in incidents]
    finally:
        deciding.undominated = by_line
    print(f"{len(incidents)} incidents, kept chain per incident:")
    print(f"  one-line dominance: mean {np.mean(one):.2f}, longest {max(one)}")
    print(f"  two-line dominance: mean {np.mean(two):.2f}, longest {max(two)}")


if __name__ == "__main__":
    main()

"""Does `remedy train --promote-if-better` promote only models that are truly better?

    python -m benchmarks.promote                                   # 3 seeds x 3,000 outcomes
    python -m benchmarks.promote --seeds 1 2 --incidents 3000 --current sim-1

For each seed: a fresh SQLite database (`remedy init`, which promotes the newest bundled model;
`--current` promotes another bundled model first), `remedy simulate --incidents N --seed S`
(simulated customers through the service's own code, exploration on), then `remedy train
--promote-if-better`, all as the real commands in a subprocess. Then both the model that was
current and the candidate pick their best plan on `--truth` fresh simulated incidents over the
service's own candidates (training/service_candidates.py), and the simulator says what each
pick is truly worth (training/evaluate.py). The property checked: whenever the candidate was
promoted, its true value is at least the current model's. Nothing here is asserted in a timed
test; tests/training/test_promote_benchmark.py runs one small seed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.artifact import load_artifact
from models.scorer import ModelScorer
from remedy.services.model_registry import bundled_folders
from training.evaluate import evaluate_policies
from training.service_candidates import service_candidates
from training.simulator import random_incident

BUNDLED = Path(__file__).resolve().parent.parent / "models" / "artifacts"


@dataclass(frozen=True)
class SeedResult:
    """One seed's run: what the gate said and what the simulator says the models are worth."""

    seed: int
    holdout: int  # holdout decisions the gate compared on
    promoted: bool
    verdict: str
    current: str
    true_current: float
    true_candidate: float
    seconds: float

    @property
    def honest(self) -> bool:
        """A promotion is honest when the candidate is truly worth at least the current model."""
        return not self.promoted or self.true_candidate >= self.true_current


def _remedy(env: dict[str, str], *args: str) -> str:
    """Run one `remedy` command; return its output, failing loudly when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "remedy.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"remedy {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def true_values(folders: dict[str, Path], n_incidents: int, seed: int = 99) -> dict[str, float]:
    """Return each model's mean true net value per decision (USD) on fresh incidents."""
    rng = np.random.default_rng(seed)
    incidents = [random_incident(rng, index=i) for i in range(n_incidents)]
    scorers = {name: ModelScorer(load_artifact(folder)) for name, folder in folders.items()}
    evaluation = evaluate_policies(incidents, scorers, candidates_fn=service_candidates)
    return evaluation.mean_true_values()


def run_seed(
    seed: int,
    incidents: int,
    truth: int,
    work: Path,
    current: str | None = None,
    exploration_rate: str = "0.10",
) -> SeedResult:
    """Simulate, train with the gate, and check the verdict against the simulator's truth."""
    started = time.perf_counter()
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": f"sqlite:///{work / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(work / "models"),
        "REMEDY_INSTANCE_PATH": str(work / "instance"),
        "REMEDY_EXPLORATION_RATE": exploration_rate,
        "REMEDY_EXPLORATION_SEED": str(seed),
    }
    _remedy(env, "init")
    if current:
        _remedy(env, "models", "promote", current)
    current = current or bundled_folders()[-1].name  # what `remedy init` promoted
    _remedy(env, "simulate", "--incidents", str(incidents), "--seed", str(seed), "--no-progress")
    version = f"promote-{seed}"
    output = _remedy(
        env,
        "train",
        "--version",
        version,
        "--seed",
        str(seed),
        "--promote-if-better",
        "--no-progress",
    )
    verdict = output.strip().splitlines()[-1]
    found = re.search(r"of (\d+) holdout decisions", output)
    values = true_values(
        {"current": BUNDLED / current, "candidate": work / "models" / "trained" / version}, truth
    )
    return SeedResult(
        seed=seed,
        holdout=int(found.group(1)) if found else 0,
        promoted=verdict.startswith("promoted"),
        verdict=verdict,
        current=current,
        true_current=values["current"],
        true_candidate=values["candidate"],
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the seeds and print one row per seed; exit 1 if any promotion was dishonest."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.promote",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--incidents", type=int, default=3000)
    parser.add_argument("--truth", type=int, default=2000, help="fresh incidents for the truth")
    parser.add_argument("--current", default=None, help="bundled model to start from")
    parser.add_argument("--exploration-rate", default="0.10")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} at start")
    print("| seed | current | promoted | true value current | candidate | gate's reason | s |")
    print("|---|---|---|---|---|---|---|")
    honest = True
    for seed in args.seeds:
        with tempfile.TemporaryDirectory(prefix="remedy-promote-") as work:
            result = run_seed(
                seed, args.incidents, args.truth, Path(work), args.current, args.exploration_rate
            )
        honest &= result.honest
        print(
            f"| {seed} | {result.current} | {'yes' if result.promoted else 'no'} | "
            f"{result.true_current:.1f} | {result.true_candidate:.1f} | {result.verdict} | "
            f"{result.seconds:.0f} |",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.2f} at end; every promotion honest: {honest}")
    return 0 if honest else 1


if __name__ == "__main__":
    raise SystemExit(main())

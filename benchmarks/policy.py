"""A peer, measured: the project's ranker against Vowpal Wabbit's contextual bandit on one log.

    pip install -e '.[bench]'          # vowpalwabbit: a benchmark extra, never a runtime need
    nice python benchmarks/policy.py [--sizes 1000 3000 10000] [--seeds 0 1 2] [--eval 2000]

Per seed, the simulator (training/simulator.py) draws incidents; the service's own decision
engine (training/service_candidates.py: the bundled catalog, rules and caps through rules,
planner and per-incident cap) gives each incident its candidate plans; the service's own
exploration rule (remedy/decisions/exploration.py: with probability `rate` the plan shown first
is drawn uniformly from the top `top_k`, else the greedy best) picks the plan shown, ranked by
the newest bundled model (what a fresh install serves), and its propensity is logged; the
simulator draws the outcome. The first 1k, 3k and 10k rows of that one log train both learners:

- **ranker**: the project's training as `remedy train` runs it (training/fit.py `fit_models`:
  P(stay) and referrals, gradient-boosted, combined into expected net value by the ranker's
  formula), keeping the prior: the model in use (the bundled one that logged) is distilled into
  pseudo-rows worth 2,000 decisions beside the log (training/prior.py);
- **ranker, log only**: the same without the prior (what retraining did before issue 13);
- **vw**: `--cb_adf` with the same features (the incident's as a shared namespace, the plan's as
  the action namespace, `-q sa` interactions, categorical codes as indicators), the logged
  propensities, and as cost the negative realised net value divided by the customer's value
  (a per-incident scale, so the argmax is unchanged and VW is not asked to learn the customer
  value's scale); its cost estimator and number of passes are tuned once on a separate seed and
  the best setting is used everywhere (the peer gets its best shot);
- **vw + prior**: the same VW, first taught the prior the ranker keeps (the bundled model's
  expected net value of every candidate of 600 logged decisions, one labelled example each),
  so that both learners start from the same knowledge.

Both then pick a plan for `--eval` fresh incidents, and the simulator's true expected net value
of each pick is averaged. Reported per size (mean over seeds, and the worst seed):

- `value`: mean true net value per decision, USD at the simulator's rates;
- `lift`: the share of the room between the logging policy and the best plan in hindsight
  that the policy captures, (V - V_logging) / (V_best - V_logging);
- `room`: the share of the room between a random offered plan and the best offered plan in
  hindsight, (V - V_random) / (V_best - V_random).

`--bundled-only` skips learning and measures only the bundled models as they rank (no
retraining, no VW): each bundled model's greedy pick on the evaluation incidents, its value
and its share of the room, and for the newest the per-kind regret (items of the best plan in
hindsight it under- or over-picks). Cheap enough for a busy machine.

Figures with their command and load average are in benchmarks/README.md ("A peer learner").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.policy_learners import VW_SETTINGS, fit_ranker, fit_vw, value_of_vw  # noqa: E402
from benchmarks.policy_log import draw_log  # noqa: E402
from benchmarks.policy_room import (  # noqa: E402
    bundled_room,
    evaluation_set,
    shares,
    value_of_ranker,
)
from remedy.decisions.exploration import ExplorationPolicy  # noqa: E402

TUNING_SEED = 99


def main() -> None:
    """Print the peer table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval", type=int, default=2000, help="evaluation incidents per seed")
    parser.add_argument("--rate", default="0.10", help="exploration rate (service default)")
    parser.add_argument("--top-k", type=int, default=5, help="exploration top_k (default)")
    parser.add_argument(
        "--bundled-only", action="store_true", help="only the bundled models' share of the room"
    )
    args = parser.parse_args()
    rule = ExplorationPolicy(rate=args.rate, top_k=args.top_k)
    started = time.perf_counter()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.bundled_only:
        bundled_room(args.seeds, args.eval, rule)
        took = time.perf_counter() - started
        print(f"seeds {args.seeds}, {args.eval} evaluation incidents each; {took:.0f} s")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return

    # Tune VW once, on its own seed, at the middle size.
    tune_n = sorted(args.sizes)[len(args.sizes) // 2]
    tune_log = draw_log(tune_n, TUNING_SEED, rule)
    tune_room = evaluation_set(args.eval // 2, TUNING_SEED, rule)
    tuned = {s: value_of_vw(fit_vw(tune_log, s, TUNING_SEED), tune_room) for s in VW_SETTINGS}
    best = max(tuned, key=tuned.get)
    print(f"VW tuning on seed {TUNING_SEED}, {tune_n} rows (true value, USD):")
    for setting, value in tuned.items():
        print(f"  {setting:8} {value:9.2f}{'  <- used' if setting == best else ''}")

    results: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    rooms = []
    for seed in args.seeds:
        log = draw_log(max(args.sizes), seed, rule)
        room = evaluation_set(args.eval, seed, rule)
        rooms.append(room)
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as folder:
                ranker = value_of_ranker(fit_ranker(log[:n], seed, Path(folder), True), room)
                alone = value_of_ranker(fit_ranker(log[:n], seed, Path(folder), False), room)
            vw = value_of_vw(fit_vw(log[:n], best, seed), room)
            vw_prior = value_of_vw(fit_vw(log[:n], best, seed, keep_prior=True), room)
            for name, value in (
                ("ranker", ranker),
                ("ranker, log only", alone),
                ("vw", vw),
                ("vw + prior", vw_prior),
            ):
                results.setdefault((name, n), []).append((value, *shares(value, room)))
        print(f"  seed {seed} done ({time.perf_counter() - started:.0f} s)", flush=True)

    print()
    logging, random, hindsight = (
        np.mean([getattr(r, a) for r in rooms]) for a in ("logging", "random", "best")
    )
    print(
        f"per decision, USD, mean over seeds: logging {logging:.2f}, random offered plan "
        f"{random:.2f}, best offered plan in hindsight {hindsight:.2f}"
    )
    print("| rows | learner | value | lift (worst seed) | room (worst seed) |")
    print("|---:|---|---:|---:|---:|")
    for n in args.sizes:
        for name in ("ranker", "ranker, log only", "vw", "vw + prior"):
            rows = np.array(results[(name, n)])
            value, lift, room_share = rows.mean(axis=0)
            print(
                f"| {n:,} | {name.replace('vw', 'vw ' + best)} | {value:.2f} | "
                f"{lift:.1%} ({rows[:, 1].min():.1%}) | {room_share:.1%} ({rows[:, 2].min():.1%}) |"
            )
    ahead = all(
        np.array(results[("ranker", n)])[:, 0].mean()
        > max(np.array(results[(vw, n)])[:, 0].mean() for vw in ("vw", "vw + prior"))
        for n in args.sizes
    )
    print(f"\nranker ahead of VW at every size: {ahead}")
    took = time.perf_counter() - started
    print(f"seeds {args.seeds}, {args.eval} evaluation incidents each; {took:.0f} s")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

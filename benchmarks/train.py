"""Benchmark training time and per-decision scoring latency of the ranking model.

    python -m benchmarks.train                       # 100k and 1M rows (1M takes minutes)
    python -m benchmarks.train --sizes 20000 --decisions 200

Training: simulated logged decisions (logged uniformly at random: the logging policy does not
change the fit's cost and the heuristic prior would make generating 1M rows slow), then
`fit_models` (both pipelines) next to the bare HistGradientBoostingClassifier fitted on the
same float matrix with the same settings, without the pipeline's encoder and without marking
any column as categorical. The retention pipeline and the bare classifier are each timed
`--repeats` times, alternating, and the best time is kept (other work shares the cores).

Scoring: per decision, the latency of `ModelScorer.predict` (features + both models) on ~40 and
~200 candidate plans, with its parts, and the heuristic prior for comparison.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from models.artifact import Artifact
from models.features import feature_matrix
from models.pipeline import BOOSTING, RETENTION, retention_pipeline
from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior
from remedy.domain import Incident, Plan
from training.candidates import candidate_plans
from training.fit import fit_models
from training.logs import LoggedRows, simulate_logs
from training.simulator import random_incident


def _seconds(fn: Callable[[], object]) -> float:
    """Return the wall time of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_training(
    n_rows: int, threads: int | None, n_jobs: int, repeats: int = 1
) -> tuple[LoggedRows, dict]:
    """Simulate `n_rows` decisions and time fit_models against the bare estimator."""
    started = time.perf_counter()
    rows = simulate_logs(n_rows, seed=1, n_jobs=n_jobs, progress=False)
    simulate_s = time.perf_counter() - started
    models: dict = {}
    fit_s = _seconds(
        lambda: models.update(fit_models(rows, seed=1, threads=threads, progress=False))
    )
    retained = rows.retained.astype(int)
    bare_times, retention_times = [], []
    with threadpool_limits(limits=threads, user_api="openmp"):
        for _ in range(repeats):
            bare = HistGradientBoostingClassifier(**BOOSTING, random_state=1)
            bare_times.append(_seconds(functools.partial(bare.fit, rows.features, retained)))
            pipeline = retention_pipeline(1)
            retention_times.append(
                _seconds(functools.partial(pipeline.fit, rows.features, retained))
            )
    bare_s, retention_s = min(bare_times), min(retention_times)
    return rows, {
        "rows": n_rows,
        "simulate_s": simulate_s,
        "fit_models_s": fit_s,
        "retention_pipeline_s": retention_s,
        "bare_classifier_s": bare_s,
        "models": models,
    }


def _decisions(n_plans: int, n_decisions: int) -> list[tuple[Incident, list[Plan]]]:
    """Return decisions of exactly `n_plans` candidates drawn from the stand-in planner."""
    rng = np.random.default_rng(3)
    decisions = []
    for _ in range(n_decisions):
        incident = random_incident(rng)
        plans = candidate_plans(incident, max_overdelivery=3)
        picked = rng.choice(len(plans), size=n_plans, replace=len(plans) < n_plans)
        decisions.append((incident, [plans[i] for i in picked]))
    return decisions


def _percentiles(samples: list[float]) -> str:
    """Format p50/p99 of samples in milliseconds."""
    ms = np.asarray(samples) * 1e3
    return f"p50 {np.percentile(ms, 50):6.2f} ms   p99 {np.percentile(ms, 99):6.2f} ms"


def _time_parts(
    decisions: list[tuple[Incident, list[Plan]]], models: dict, prior: HeuristicPrior
) -> list[str]:
    """Time each part of scoring over the decisions; return one line per part."""
    artifact = Artifact(models, {"version": "benchmark"}, Path("benchmark"))
    scorer, unlimited = ModelScorer(artifact), ModelScorer(artifact, threads=None)
    whole = ModelScorer(artifact)
    # what serving costs through the pipelines' own encoders and scikit-learn's tree walk
    whole.fast_path, whole._forest = False, None
    pipeline = models[RETENTION]
    for incident, plans in decisions[:20]:  # warm up caches and thread pools
        scorer.predict(incident, plans)
    matrices = [feature_matrix(i, p) for i, p in decisions]
    encoded = [pipeline[:-1].transform(x) for x in matrices]
    parts: list[tuple[str, Callable[[int], object]]] = [
        ("ModelScorer.predict (1 OpenMP thread)", lambda k: scorer.predict(*decisions[k])),
        ("ModelScorer.predict (all threads)", lambda k: unlimited.predict(*decisions[k])),
        ("ModelScorer.predict via full Pipelines", lambda k: whole.predict(*decisions[k])),
        ("  feature_matrix", lambda k: feature_matrix(*decisions[k])),
        ("  retention Pipeline.predict_proba", lambda k: pipeline.predict_proba(matrices[k])),
        ("  bare classifier on encoded rows", lambda k: pipeline[-1].predict_proba(encoded[k])),
        ("HeuristicPrior.predict", lambda k: prior.predict(*decisions[k])),
    ]
    lines = []
    for name, fn in parts:
        # the indented parts run on one thread, as ModelScorer runs them by default
        one_thread = name.startswith("  ")
        limit = threadpool_limits(limits=1, user_api="openmp") if one_thread else nullcontext()
        with limit:
            samples = [_seconds(functools.partial(fn, k)) for k in range(len(decisions))]
        lines.append(f"  {name:<40} {_percentiles(samples)}")
    return lines


def bench_scoring(models: dict, n_decisions: int) -> list[str]:
    """Time scoring one decision, end to end and by part, over ~40 and ~200 plans."""
    lines = []
    for n_plans in (40, 200):
        lines.append(f"scoring one decision of {n_plans} plans ({n_decisions} decisions):")
        lines += _time_parts(_decisions(n_plans, n_decisions), models, HeuristicPrior())
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--decisions", type=int, default=1000, help="decisions timed per size")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads for fits")
    parser.add_argument("--jobs", type=int, default=2, help="processes simulating decisions")
    parser.add_argument("--repeats", type=int, default=1, help="timed fits each, best kept")
    args = parser.parse_args(argv)
    print(
        f"python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
        f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"boosting: {BOOSTING}; fit threads: {args.threads or 'all'}")
    smallest: dict | None = None
    for n_rows in sorted(args.sizes):
        _, result = bench_training(n_rows, args.threads, args.jobs, args.repeats)
        smallest = smallest or result["models"]
        ratio = result["retention_pipeline_s"] / result["bare_classifier_s"]
        print(
            f"{n_rows:>9,} rows: simulate {result['simulate_s']:7.1f} s | fit_models (both "
            f"pipelines) {result['fit_models_s']:6.2f} s | retention pipeline "
            f"{result['retention_pipeline_s']:6.2f} s | bare classifier "
            f"{result['bare_classifier_s']:6.2f} s | pipeline / bare {ratio:.2f}x | "
            f"load average {os.getloadavg()[0]:.2f}"
        )
    if smallest is not None:
        print("\n".join(bench_scoring(smallest, args.decisions)))
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the day-one model bundled with the service, from simulated logs, reproducibly.

    python -m training.bundle --out models/artifacts/<version>

Steps: simulate incidents (training/simulator.py), build their candidate plans, show one with
an exploring logging policy (the heuristic prior, epsilon-greedy, propensities recorded),
simulate the outcome, fit both pipelines on the earlier 80% of decisions (P(stay)'s calibration
step on the latest tenth of those, training/calibration.py), evaluate on the latest 20%
(classification metrics, calibration before and after the step, the predicted/realised net
value ratio, policy values: off-policy estimates next to the simulator's truth), and write
`model.skops`, `card.json` and two PNG plots into the folder.
The same seed gives the same model.

The off-policy estimates go through the same path as `remedy train` (training/holdout.py
`policy_values`): the doubly robust reward model is cross-fitted on the holdout, apart from the
model being judged, and the model and the heuristic prior are compared paired, with the overlap,
effective sample size and both models' log loss that training/gate.py reads (`metrics.gate`).
The bundle is never promoted by the gate (`remedy init` promotes it); the card shows what the
gate would have said, beside the simulator's truth that no real log has.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sklearn

from models.artifact import Artifact, load_artifact, save_artifact
from models.calibration import booster
from models.features import FEATURE_NAMES
from models.scorer import ModelScorer
from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from training.calibration import CALIBRATION_FRACTION, calibration_section, keep_if_better
from training.candidates import CandidatesFn, candidate_plans
from training.evaluate import evaluate_policies, logged_value
from training.fit import evaluate_holdout, fit_models, plot_calibration, plot_policy_values
from training.gate import promotion_verdict
from training.holdout import _gate_section, policy_values
from training.holdout_calibration import net_value_calibration, retention_log_loss
from training.logged import LoggedDecision
from training.logs import EpsilonGreedy, LoggedRows, simulate_logs, time_split

DEFAULT_SEED = 20250101
LITERATURE = "docs/research.md"


def logged_decisions(holdout: LoggedRows, candidates_fn: CandidatesFn) -> list[LoggedDecision]:
    """Return simulated holdout rows as the decisions `remedy train` reads from the database."""
    return [
        LoggedDecision(
            incident=incident,
            candidates=candidates_fn(incident),
            logged_index=int(holdout.logged_index[i]),
            shown_index=int(holdout.logged_index[i]),  # a simulated customer gets the plan shown
            propensity=float(holdout.propensity[i]),
            retained=bool(holdout.retained[i]),
            referrals=int(holdout.referrals[i]),
            decided_at=holdout.decided_at[i].astype(datetime).replace(tzinfo=UTC),
        )
        for i, incident in enumerate(holdout.incidents or ())
    ]


def build_bundle(
    out: Path | str,
    *,
    n_decisions: int = 40_000,
    seed: int = DEFAULT_SEED,
    epsilon: float = 0.3,
    holdout_fraction: float = 0.2,
    candidates_fn: CandidatesFn = candidate_plans,
    values: ValueSettings | None = None,
    version: str | None = None,
    created_at: datetime | None = None,
    oracle_sample: int = 1000,
    n_jobs: int = 2,
    threads: int | None = None,
    progress: bool = True,
    calibration_fraction: float = CALIBRATION_FRACTION,
    **boosting: Any,
) -> dict[str, Any]:
    """Simulate, fit, evaluate and write the bundle into `out`; return its card.

    P(stay) is calibrated as in `remedy train`: a sigmoid step fitted on the latest
    `calibration_fraction` of the training window (training/calibration.py; 0: none).

    `candidates_fn` is the seam for the service's planner: pass a function that turns an
    incident into the planner's candidate plans and the bundle trains on exactly those.
    """
    out = Path(out)
    version = version or out.name
    values = values or ValueSettings()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    logging_policy = EpsilonGreedy(HeuristicPrior(), epsilon, values)
    rows = simulate_logs(
        n_decisions,
        seed=seed,
        policy=logging_policy,
        candidates_fn=candidates_fn,
        keep_incidents=True,
        n_jobs=n_jobs,
        progress=progress,
    )
    train, holdout = time_split(rows, holdout_fraction)
    timings["simulate_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    models = fit_models(
        train,
        seed=seed,
        threads=threads,
        progress=progress,
        calibration_fraction=calibration_fraction,
        **boosting,
    )
    timings["fit_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    metrics = evaluate_holdout(models, holdout)
    # the calibration step stays only where it helped on the holdout (training/calibration.py)
    models, verdict = keep_if_better(models, metrics)
    if verdict is not None and not verdict["kept"]:
        metrics = evaluate_holdout(models, holdout)
    scorer = ModelScorer(Artifact(models, {"version": version}, out))
    prior = HeuristicPrior()
    incidents = holdout.incidents or ()
    evaluation = evaluate_policies(
        incidents,
        {"heuristic_prior": prior, "model": scorer},
        logged_index=holdout.logged_index,
        candidates_fn=candidates_fn,
        values=values,
        oracle_sample=oracle_sample,
        progress=progress,
    )
    # The same judges as `remedy train`: a cross-fitted reward model, a paired comparison.
    decisions = logged_decisions(holdout, candidates_fn)
    # epsilon-greedy over every candidate: any plan could be shown first (top_k None)
    report = policy_values(decisions, scorer, prior, values, seed=seed)
    gate = _gate_section(report, retention_log_loss(decisions, scorer, prior))
    estimates = {
        "logging": [logged_value(holdout, seed=seed)],
        "heuristic_prior": report.estimates.get("current", []),
        "model": report.estimates.get("candidate", []),
    }
    truth = (
        {"logging": float(evaluation.true_logged.mean())}
        if evaluation.true_logged is not None
        else {}
    )
    truth |= evaluation.mean_true_values()
    n_oracle = len(evaluation.oracle)
    value_section = {
        "unit": "mean net value per decision, USD at the simulator's rates",
        "values": {
            "horizon_years": str(values.horizon_years),
            "referral_share": str(values.referral_share),
        },
        "simulator_truth": truth,
        "oracle_on_first": {
            "incidents": n_oracle,
            "oracle": float(evaluation.oracle.mean()) if n_oracle else None,
            **{name: float(v[:n_oracle].mean()) for name, v in evaluation.true_value.items()},
        },
        "offpolicy": {name: [e.as_dict() for e in es] for name, es in estimates.items()},
        "model_agrees_with_log": float((evaluation.picks["model"] == holdout.logged_index).mean()),
        "notes": [
            "IPS and SNIPS for the model rest on the few holdout decisions where the logged plan "
            "is the model's pick (model_agrees_with_log), hence their wide intervals.",
            "The doubly robust reward model is cross-fitted on the holdout (5 folds), apart "
            "from the model judged, as in `remedy train`; its weights are clipped at 50.",
        ],
        "gate_verdict": promotion_verdict({"metrics": {"gate": gate}})[1] if gate else None,
    }
    calibration = calibration_section(models, train, calibration_fraction, metrics, verdict)
    metrics["net_value"] = net_value_calibration(decisions, scorer, values)
    calibration["net_value_ratio"] = metrics["net_value"]["ratio"]
    timings["evaluate_s"] = time.perf_counter() - clock

    out.mkdir(parents=True, exist_ok=True)
    plot_calibration(
        metrics["retention"]["calibration"],
        out / "calibration.png",
        title=f"{version}: calibration on the latest {holdout_fraction:.0%}",
        before=metrics["retention"].get("calibration_before"),
    )
    plot_policy_values(
        estimates,
        out / "policy_values.png",
        truth=truth,
        title=f"{version}: policy values on the holdout",
    )
    card = save_artifact(
        out,
        models,
        version=version,
        created_at=created_at,
        training_window=train.window(),
        metrics={"holdout": metrics, "policy_values": value_section, "gate": gate},
        extra={
            "source": {
                "kind": "simulated",
                "simulator": "training/simulator.py",
                "literature": LITERATURE,
                "seed": seed,
                "decisions": n_decisions,
                "holdout_fraction": holdout_fraction,
                "logging_policy": f"epsilon-greedy over {prior.version}, epsilon={epsilon}",
                "candidates": f"{candidates_fn.__module__}.{candidates_fn.__qualname__}",
            },
            "boosting": {**booster(models["retention"][-1]).get_params(), **boosting},
            "calibration": calibration,
            "feature_count": len(FEATURE_NAMES),
            "sklearn": sklearn.__version__,
            "timings_s": {k: round(v, 1) for k, v in timings.items()},
        },
    )
    load_artifact(out)  # the written bundle must load through the service's own checks
    return card


def main(argv: list[str] | None = None) -> int:
    """Build the bundle from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m training.bundle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="folder; its name is the version")
    parser.add_argument("--decisions", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--epsilon", type=float, default=0.3)
    parser.add_argument("--jobs", type=int, default=2, help="processes simulating decisions")
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads for fitting")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument(
        "--candidates",
        choices=("service", "standin"),
        default="service",
        help="plans to learn from: the service's planner (default) or the stand-in catalog",
    )
    args = parser.parse_args(argv)
    if args.candidates == "service":
        from training.service_candidates import service_candidates as candidates_fn
    else:
        candidates_fn = candidate_plans
    started = time.perf_counter()
    card = build_bundle(
        args.out,
        n_decisions=args.decisions,
        seed=args.seed,
        epsilon=args.epsilon,
        n_jobs=args.jobs,
        threads=args.threads,
        progress=not args.no_progress,
        candidates_fn=candidates_fn,
    )
    holdout = card["metrics"]["holdout"]["retention"]
    truth = card["metrics"]["policy_values"]["simulator_truth"]
    print(
        f"wrote {args.out} ({card['model_bytes'] / 1e6:.2f} MB model) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    print(
        f"holdout: log loss {holdout['log_loss']:.4f} "
        f"(base rate alone {holdout['log_loss_base_rate']:.4f}), "
        f"AUC {holdout['auc']:.3f}, Brier {holdout['brier']:.4f}"
    )
    print(
        "true policy value per decision (USD): "
        + ", ".join(f"{name} {value:.1f}" for name, value in truth.items())
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

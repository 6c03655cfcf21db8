"""Retrain from what the service logged: decisions, accepted plans and their outcomes.

`train_from_logs` reads every decision with an outcome as arrays, streamed in chunks
(training/read_logs.py: the incident, the accepted plan rebuilt from the stored priced items,
the outcome), plus the latest holdout decisions whole, with their candidates, the plan shown
first and the propensity with which exploration showed it (training/logged.py). It
fits both pipelines on the earlier 80% (by decision time) beside pseudo-rows carrying the
current model's beliefs (training/prior.py: retraining keeps the prior), calibrates P(stay)
with a sigmoid step fitted on the latest tenth of those 80% (training/calibration.py: logged
rows only, never the prior's pseudo-rows), and evaluates on the latest 20%: log loss, AUC,
Brier and calibration (before and after the step), both models' log loss on the logged plans,
and the off-policy values of the new and the current model's greedy policies, paired
(training/holdout.py: IPS, SNIPS and doubly robust with a cross-fitted reward model, bootstrap
intervals), and writes a versioned artifact (skops, card, PNG plots). Rewards are in US dollars
at the exchange rates given (the `exchange_rates` document); decisions in other currencies train
the model but are left out of the policy values, and the card counts them per currency
(`source.currencies_without_rate`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.artifact import load_artifact, save_artifact
from models.scorer import ModelScorer
from remedy.decisions.exploration import ExplorationPolicy
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.record import DecisionRecord
from remedy.store.tables import Decision, Outcome
from training.calibration import CALIBRATION_FRACTION, calibration_section, keep_if_better
from training.fit import evaluate_holdout, fit_models, plot_calibration, plot_policy_values
from training.gate import promotion_verdict
from training.holdout import (  # re-exported: the holdout's judges, for callers and tests
    OffPolicyReport,
    _gate_section,
    policy_values,
)
from training.holdout_calibration import (  # re-exported: how well the models predict it
    net_value_calibration,
    retention_log_loss,
)
from training.logged import (  # re-exported: the data set, for callers and tests
    LoggedDecision,
    Rates,
    _net_values,
    _reward,
    as_rows,
    currencies_without_rate,
    from_record,
)
from training.prior import PRIOR_STRENGTH, distil
from training.read_logs import EVAL_LIMIT, count_logged, read_training_log
from training.reward_model import (  # re-exported: the cross-fitted reward model
    cross_fitted_values,
    fit_reward_model,
    fold_of,
)
from training.simulator import FX_PER_USD

__all__ = [
    "LoggedDecision",
    "OffPolicyReport",
    "_gate_section",
    "_net_values",
    "_reward",
    "as_rows",
    "cross_fitted_values",
    "currencies_without_rate",
    "fit_reward_model",
    "fold_of",
    "load_logged",
    "net_value_calibration",
    "now_version",
    "policy_values",
    "train_from_logs",
]


def load_logged(session: Session, progress: bool = True) -> list[LoggedDecision]:
    """Read every decision that has an outcome, oldest first.

    Each keeps the plan shown first and its stored propensity beside the accepted plan
    (training/logged.py `from_record`), as `read_whole` reads them.
    """
    rows = session.execute(
        sa.select(Decision, Outcome)
        .join(Outcome, Outcome.decision_id == Decision.id)
        .order_by(Decision.created_at)
    ).all()
    logged = []
    for decision, outcome in tqdm(rows, desc="reading logs", unit="decision", disable=not progress):
        found = from_record(
            DecisionRecord.of(decision),
            outcome.plan_id,
            decision.propensity,
            outcome.retained,
            outcome.referrals,
            decision.created_at,
        )
        if found is not None:  # None: accepted plan no longer kept, nothing to learn safely
            logged.append(found)
    return logged


def train_from_logs(
    session: Session,
    out: Path,
    current: PlanScorer,
    values: ValueSettings,
    *,
    version: str | None = None,
    holdout_fraction: float = 0.2,
    min_rows: int = 200,
    seed: int = 0,
    progress: bool = True,
    rates: Rates = FX_PER_USD,
    rates_version: int | None = None,
    prior_strength: float = PRIOR_STRENGTH,
    eval_limit: int = EVAL_LIMIT,
    exploration: ExplorationPolicy | None = None,
    calibration_fraction: float = CALIBRATION_FRACTION,
    **boosting: Any,
) -> dict[str, Any]:
    """Fit on logged outcomes and the current model's prior, evaluate, write into `out`.

    `rates` are units of each currency per US dollar (the `exchange_rates` document, version
    `rates_version`; the simulator's fixed rates when not given);
    `prior_strength` is how many logged decisions the current model's beliefs count for
    (0: none); `eval_limit` caps the latest holdout decisions read whole for the off-policy
    comparison (training/read_logs.py); `exploration` is the service's (the app's
    `EXPLORATION_RATE` and `EXPLORATION_TOP_K`; None: the default `ExplorationPolicy()`): the
    gate's support check takes it that the holdout was logged with it, and the card counts the
    rows that say otherwise (`metrics.gate.support.shown_outside`); `calibration_fraction` is
    the latest share of the training window that fits P(stay)'s calibration step
    (training/calibration.py; 0: none).
    Returns the model card, whose `calibration` section holds the holdout's calibration error
    before and after the step and the predicted/realised net value ratio of the calibrated
    model (the scorer that computes it is loaded from the written artifact, step included).
    """
    found = count_logged(session)
    if found < min_rows:
        raise ValueError(f"only {found} decisions with outcomes; need at least {min_rows}")
    log = read_training_log(
        session,
        values,
        rates,
        holdout_fraction=holdout_fraction,
        eval_limit=eval_limit,
        progress=progress,
    )
    rows, cut, evaluation = log.rows, log.cut, log.evaluation
    train, holdout = rows.take(slice(0, cut)), rows.take(slice(cut, None))
    prior = distil(
        [(d.incident, d.candidates) for d in log.prior],
        current,
        strength=prior_strength,
        seed=seed,
        values=values,
    )
    models = fit_models(
        train,
        seed=seed,
        progress=progress,
        prior=prior,
        calibration_fraction=calibration_fraction,
        **boosting,
    )
    metrics = evaluate_holdout(models, holdout)
    # the calibration step stays only where it helped on the holdout (training/calibration.py)
    models, verdict = keep_if_better(models, metrics)
    if verdict is not None and not verdict["kept"]:
        metrics = evaluate_holdout(models, holdout)
    version = version or out.name
    card = save_artifact(
        out,
        models,
        version=version,
        training_window=train.window(),
        metrics={"holdout": metrics},
    )
    candidate = ModelScorer(load_artifact(out))
    report = policy_values(
        evaluation,
        candidate,
        current,
        values,
        seed=seed,
        rates=rates,
        exploration=exploration or ExplorationPolicy(),
    )
    estimates = report.estimates
    card["metrics"]["policy_values"] = {
        name: [e.as_dict() for e in found] for name, found in estimates.items()
    }
    log_loss = retention_log_loss(evaluation, candidate, current)
    card["metrics"]["gate"] = _gate_section(report, log_loss)
    if card["metrics"]["gate"] is not None:
        # The verdict travels with the card: a champion/challenger experiment starts only for a
        # version that passed (remedy/services/experiments.py), without importing training.
        passed, why = promotion_verdict(card)
        card["metrics"]["gate"]["verdict"] = {"passed": passed, "reason": why}
    card["metrics"]["holdout"]["net_value"] = net_value_calibration(
        evaluation, candidate, values, rates
    )
    card["metrics"]["current_model"] = current.version
    calibration = calibration_section(models, train, calibration_fraction, metrics, verdict)
    calibration["net_value_ratio"] = card["metrics"]["holdout"]["net_value"]["ratio"]
    missing = {c: n for c, n in log.currencies.items() if c not in rates}
    card = save_artifact(
        out,
        models,
        version=version,
        training_window=card["training_window"],
        metrics=card["metrics"],
        extra={
            "source": {
                "kind": "logged",
                "decisions": len(rows),
                "holdout": len(holdout),
                # the latest holdout decisions the off-policy comparison read whole
                "evaluated": len(evaluation),
                "seed": seed,
                # The current model's beliefs, distilled beside the logged rows (prior.py).
                "prior": prior.describe() if prior is not None else None,
                "exchange_rates": {c: rates[c] for c in sorted(rates)},
                "exchange_rates_version": rates_version,
                # Trained on, but left out of the policy values and the gate: no rate to USD.
                "currencies_without_rate": missing,
                "rows_without_rate": sum(missing.values()),
            },
            "calibration": calibration,
        },
    )
    plot_calibration(
        metrics["retention"]["calibration"],
        out / "calibration.png",
        f"{version}: holdout calibration",
        before=metrics["retention"].get("calibration_before"),
    )
    if estimates:
        plot_policy_values(
            {name: found for name, found in estimates.items()}, out / "policy_values.png"
        )
    return card


def now_version(prefix: str = "logged") -> str:
    """A version name from the current time."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"

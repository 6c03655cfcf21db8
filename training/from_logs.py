"""Retrain from what the service logged: decisions, accepted plans and their outcomes.

`build_dataset` turns every decision with an outcome into one row: the incident, the accepted
plan (rebuilt from the stored priced items), the outcome, and — when the accepted plan is the one
shown first — the propensity with which exploration showed it. `train_from_logs` fits both
pipelines on the earlier 80% (by decision time), evaluates on the latest 20%: log loss, AUC,
Brier and calibration, plus off-policy values of the new model's and the current model's greedy
policies (IPS, SNIPS and doubly robust, with bootstrap intervals), and writes a versioned artifact
(skops, card, PNG plots). Rewards are the realised net value
`(retained x horizon + referrals x referral_share) x customer_value - cost`, in US dollars at the
simulator's fixed rates (training/simulator.py FX_PER_USD) so currencies can be averaged;
decisions in other currencies train the model but are left out of the policy values, and the
card counts them per currency (`source.currencies_without_rate`).

The doubly robust reward model is never the candidate: `cross_fitted_values` fits the outcome
pipelines afresh on the holdout, K folds, each fold predicted by a model fitted on the others, so
no prediction comes from a model that saw the row, and none from the data the candidate was
fitted on (whose noise the candidate's picks exploit). The two policies are then compared on the
same rows, paired (training/offpolicy.py `compare`), and the card's `metrics.gate` holds what
training/gate.py needs to decide promotion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.artifact import Artifact, load_artifact, save_artifact
from models.features import feature_rows
from models.scorer import ModelScorer
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.record import DecisionRecord
from remedy.domain import Incident, Plan
from remedy.store.tables import Decision, Outcome
from training.fit import evaluate_holdout, fit_models, plot_calibration, plot_policy_values
from training.gate import MIN_AGREEMENT, MIN_ESS
from training.logs import LoggedRows, greedy_index, time_split
from training.offpolicy import MAX_WEIGHT, Comparison, Estimate, compare, doubly_robust, ips, snips
from training.simulator import FX_PER_USD


@dataclass
class LoggedDecision:
    """One decision with an outcome, ready for training and evaluation."""

    incident: Incident
    candidates: list[Plan]  # the plans that passed the guardrails, in rank order
    logged_index: int  # position of the accepted plan among the candidates
    propensity: float | None  # P(the accepted plan was shown first), if it was shown first
    retained: bool
    referrals: int
    decided_at: datetime


def load_logged(session: Session, progress: bool = True) -> list[LoggedDecision]:
    """Read every decision that has an outcome, oldest first."""
    rows = session.execute(
        sa.select(Decision, Outcome)
        .join(Outcome, Outcome.decision_id == Decision.id)
        .order_by(Decision.created_at)
    ).all()
    logged = []
    for decision, outcome in tqdm(rows, desc="reading logs", unit="decision", disable=not progress):
        record = DecisionRecord.of(decision)
        kept = record.offered
        ids = [c.plan_id for c in kept]
        if outcome.plan_id not in ids:
            continue  # accepted plan no longer among the kept ones: nothing to learn safely
        index = ids.index(outcome.plan_id)
        shown_first = bool(record.shown) and record.shown[0] == outcome.plan_id
        logged.append(
            LoggedDecision(
                incident=record.incident,
                candidates=[record.plan(c) for c in kept],
                logged_index=index,
                propensity=float(Decimal(decision.propensity)) if shown_first else None,
                retained=outcome.retained,
                referrals=outcome.referrals or 0,
                decided_at=decision.created_at,
            )
        )
    return logged


def _reward(d: LoggedDecision, values: ValueSettings) -> float:
    """Realised net value of the logged plan, in USD (NaN for currencies without a rate)."""
    rate = FX_PER_USD.get(d.incident.currency)
    if rate is None:
        return float("nan")
    gain = d.retained * float(values.horizon_years) + d.referrals * float(values.referral_share)
    cost = float(d.candidates[d.logged_index].total_cost)
    return (gain * float(d.incident.customer_value) - cost) / rate


def as_rows(logged: Sequence[LoggedDecision], values: ValueSettings) -> LoggedRows:
    """Turn logged decisions into the arrays the fitting code takes."""
    features = feature_rows((d.incident, d.candidates[d.logged_index]) for d in logged)
    return LoggedRows(
        features=features,
        retained=np.array([d.retained for d in logged], dtype=bool),
        referrals=np.array([d.referrals for d in logged], dtype=int),
        propensity=np.array([d.propensity or np.nan for d in logged], dtype=float),
        reward=np.array([_reward(d, values) for d in logged], dtype=float),
        decided_at=np.array(
            [d.decided_at.astimezone(UTC).replace(tzinfo=None) for d in logged],
            dtype="datetime64[s]",
        ),
        logged_index=np.array([d.logged_index for d in logged], dtype=int),
    )


def _net_values(scorer: PlanScorer, d: LoggedDecision, values: ValueSettings) -> np.ndarray:
    """Return the scorer's expected net value (USD) of each candidate plan of a decision."""
    p_stay, referrals = scorer.predict(d.incident, d.candidates)
    gain = p_stay * float(values.horizon_years) + referrals * float(values.referral_share)
    costs = np.array([float(p.total_cost) for p in d.candidates])
    return (gain * float(d.incident.customer_value) - costs) / FX_PER_USD[d.incident.currency]


class _MeanScorer:
    """A reward model of last resort: the mean outcome of the rows it was given, for every plan."""

    def __init__(self, decisions: Sequence[LoggedDecision]) -> None:
        """Keep the mean retention and referrals (0.5 and 0 when there are no rows)."""
        self.version = "mean-outcome"
        self._p = float(np.mean([d.retained for d in decisions])) if decisions else 0.5
        self._referrals = float(np.mean([d.referrals for d in decisions])) if decisions else 0.0

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return the same P(stay) and referrals for every plan."""
        return np.full(len(plans), self._p), np.full(len(plans), self._referrals)


RewardModelFit = Callable[[Sequence[LoggedDecision], ValueSettings, int], PlanScorer]


def fit_reward_model(
    decisions: Sequence[LoggedDecision], values: ValueSettings, seed: int
) -> PlanScorer:
    """Fit the outcome pipelines on some logged decisions, as a reward model for DR.

    Leaves scale with the rows (the production setting of 100 would leave a few hundred rows
    one leaf); a fold without both retention outcomes or without a single referral (which
    neither classifier nor Poisson regression can fit) falls back to the mean outcome.
    """
    rows = as_rows(decisions, values)
    both = rows.retained.any() and not rows.retained.all()
    if len(rows) < 2 or not both or rows.referrals.sum() == 0:
        return _MeanScorer(decisions)
    leaf = int(np.clip(len(rows) // 20, 5, 100))
    models = fit_models(rows, seed=seed, progress=False, min_samples_leaf=leaf)
    return ModelScorer(Artifact(models, {"version": "reward-model"}, Path(".")))


def fold_of(n: int, folds: int, seed: int) -> np.ndarray:
    """Assign n rows to `folds` folds of near-equal size, at random (seeded)."""
    return np.random.default_rng(seed).permutation(n) % folds


def cross_fitted_values(
    decisions: Sequence[LoggedDecision],
    values: ValueSettings,
    *,
    folds: int = 5,
    seed: int = 0,
    fit: RewardModelFit = fit_reward_model,
) -> list[np.ndarray]:
    """Return a reward model's net value (USD) of every candidate plan of every decision.

    Cross-fitted: the decisions are split into `folds` folds and each fold is predicted by a
    model fitted on the other folds only, so no row's prediction comes from a model that saw its
    outcome. The reward model is fitted here, from these decisions alone, never taken from the
    caller: the model under evaluation cannot grade itself.
    """
    if len(decisions) < 2:
        raise ValueError("cross-fitting needs at least two decisions")
    folds = min(folds, len(decisions))
    which = fold_of(len(decisions), folds, seed)
    out: list[np.ndarray] = [np.empty(0)] * len(decisions)
    for k in range(folds):
        model = fit([d for d, f in zip(decisions, which, strict=True) if f != k], values, seed)
        for i in np.flatnonzero(which == k):
            out[i] = _net_values(model, decisions[i], values)
    return out


@dataclass(frozen=True)
class OffPolicyReport:
    """The holdout's off-policy evaluation: each policy's estimates and their paired comparison."""

    estimates: dict[str, list[Estimate]]  # "candidate", "current" -> IPS, SNIPS, DR
    comparison: Comparison | None  # candidate minus current, paired
    rows: int  # holdout decisions evaluated (logged with a propensity and a known rate)


def policy_values(
    holdout: Sequence[LoggedDecision],
    candidate: PlanScorer,
    current: PlanScorer,
    values: ValueSettings,
    *,
    folds: int = 5,
    seed: int = 0,
    fit: RewardModelFit = fit_reward_model,
) -> OffPolicyReport:
    """Estimate both greedy policies' values on the holdout and compare them, paired.

    The doubly robust reward model is cross-fitted on the holdout (`cross_fitted_values`),
    apart from both policies; its weights are clipped at `MAX_WEIGHT` (training/offpolicy.py).
    """
    priced = [d for d in holdout if d.incident.currency in FX_PER_USD]
    usable = [d for d in priced if d.propensity]
    if len(usable) < 2:
        return OffPolicyReport({}, None, len(usable))
    # The reward model learns from every priced holdout outcome, explored or not.
    reward_values = cross_fitted_values(priced, values, folds=folds, seed=seed, fit=fit)
    by_id = {id(d): v for d, v in zip(priced, reward_values, strict=True)}
    q = [by_id[id(d)] for d in usable]
    logged = np.array([d.logged_index for d in usable])
    rewards = np.array([_reward(d, values) for d in usable])
    propensities = np.array([float(d.propensity or 0) for d in usable])
    predicted_logged = np.array([v[i] for v, i in zip(q, logged, strict=True)])
    common = {"n_boot": 500, "seed": seed}
    targets, predicted = {}, {}
    estimates: dict[str, list[Estimate]] = {}
    for name, scorer in (("candidate", candidate), ("current", current)):
        picks = np.array(
            [greedy_index(_net_values(scorer, d, values), d.candidates) for d in usable]
        )
        targets[name] = (picks == logged).astype(float)
        predicted[name] = np.array([v[p] for v, p in zip(q, picks, strict=True)])
        found = [ips(rewards, propensities, targets[name], **common)]
        if targets[name].any():
            found.append(snips(rewards, propensities, targets[name], **common))
        found.append(
            doubly_robust(
                rewards,
                propensities,
                targets[name],
                predicted_logged,
                predicted[name],
                max_weight=MAX_WEIGHT,
                **common,
            )
        )
        estimates[name] = found
    comparison = compare(
        rewards,
        propensities,
        targets["candidate"],
        targets["current"],
        predicted_logged,
        predicted["candidate"],
        predicted["current"],
        **common,
    )
    return OffPolicyReport(estimates, comparison, len(usable))


def currencies_without_rate(logged: Sequence[LoggedDecision]) -> dict[str, int]:
    """Count logged decisions per currency that has no exchange rate to US dollars."""
    missing = Counter(d.incident.currency for d in logged if d.incident.currency not in FX_PER_USD)
    return dict(sorted(missing.items()))


def net_value_calibration(
    holdout: Sequence[LoggedDecision], scorer: PlanScorer, values: ValueSettings
) -> dict[str, float | int | None]:
    """Compare the scorer's predicted net value of the logged plans with what they realised.

    Over holdout decisions with a known rate, in USD per decision; `ratio` is predicted over
    realised (1 is calibrated; None when the realised mean is 0).
    """
    priced = [d for d in holdout if d.incident.currency in FX_PER_USD]
    if not priced:
        return {"rows": 0, "predicted_mean": None, "realised_mean": None, "ratio": None}
    predicted = float(np.mean([_net_values(scorer, d, values)[d.logged_index] for d in priced]))
    realised = float(np.mean([_reward(d, values) for d in priced]))
    return {
        "rows": len(priced),
        "predicted_mean": predicted,
        "realised_mean": realised,
        "ratio": predicted / realised if realised else None,
    }


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
    **boosting: Any,
) -> dict[str, Any]:
    """Fit on logged outcomes, evaluate, write the artifact into `out`; return its card."""
    logged = load_logged(session, progress)
    if len(logged) < min_rows:
        raise ValueError(f"only {len(logged)} decisions with outcomes; need at least {min_rows}")
    rows = as_rows(logged, values)
    train, holdout = time_split(rows, holdout_fraction)
    cut = len(train)
    models = fit_models(train, seed=seed, progress=progress, **boosting)
    metrics = evaluate_holdout(models, holdout)
    version = version or out.name
    card = save_artifact(
        out,
        models,
        version=version,
        training_window=rows.take(slice(0, cut)).window(),
        metrics={"holdout": metrics},
    )
    candidate = ModelScorer(load_artifact(out))
    report = policy_values(logged[cut:], candidate, current, values, seed=seed)
    estimates = report.estimates
    card["metrics"]["policy_values"] = {
        name: [e.as_dict() for e in found] for name, found in estimates.items()
    }
    card["metrics"]["gate"] = _gate_section(report)
    card["metrics"]["holdout"]["net_value"] = net_value_calibration(logged[cut:], candidate, values)
    card["metrics"]["current_model"] = current.version
    missing = currencies_without_rate(logged)
    card = save_artifact(
        out,
        models,
        version=version,
        training_window=card["training_window"],
        metrics=card["metrics"],
        extra={
            "source": {
                "kind": "logged",
                "decisions": len(logged),
                "holdout": len(holdout),
                "seed": seed,
                # Trained on, but left out of the policy values and the gate: no rate to USD.
                "currencies_without_rate": missing,
                "rows_without_rate": sum(missing.values()),
            }
        },
    )
    plot_calibration(
        metrics["retention"]["calibration"],
        out / "calibration.png",
        f"{version}: holdout calibration",
    )
    if estimates:
        plot_policy_values(
            {name: found for name, found in estimates.items()}, out / "policy_values.png"
        )
    return card


def _gate_section(report: OffPolicyReport) -> dict[str, Any] | None:
    """Return the card's `metrics.gate`: the paired comparison the promotion gate reads."""
    if report.comparison is None:
        return None
    return {
        "rows": report.rows,
        "compared": "candidate minus current model, paired on the same holdout decisions",
        "reward_model": "cross-fitted on the holdout (5 folds), fitted apart from both models",
        "thresholds": {"min_agreement": MIN_AGREEMENT, "min_ess": MIN_ESS},
        **report.comparison.as_dict(),
    }


def now_version(prefix: str = "logged") -> str:
    """A version name from the current time."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"

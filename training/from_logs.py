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
decisions in other currencies train the model but are left out of the policy values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.artifact import save_artifact
from models.features import feature_rows
from models.scorer import ModelScorer
from remedy.decisions.ranker import PlanScorer, ValueSettings
from remedy.decisions.record import DecisionRecord
from remedy.domain import Incident, Plan
from remedy.store.tables import Decision, Outcome
from training.fit import evaluate_holdout, fit_models, plot_calibration, plot_policy_values
from training.logs import LoggedRows, time_split
from training.offpolicy import Estimate, doubly_robust, ips, snips
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


def _greedy_values(
    scorer: PlanScorer, d: LoggedDecision, values: ValueSettings
) -> tuple[int, np.ndarray]:
    """The scorer's pick among the candidates and its net value (USD) for each candidate."""
    p_stay, referrals = scorer.predict(d.incident, d.candidates)
    gain = p_stay * float(values.horizon_years) + referrals * float(values.referral_share)
    costs = np.array([float(p.total_cost) for p in d.candidates])
    env = (gain * float(d.incident.customer_value) - costs) / FX_PER_USD[d.incident.currency]
    return int(np.argmax(env)), env


def policy_values(
    holdout: Sequence[LoggedDecision],
    policies: dict[str, PlanScorer],
    reward_model: PlanScorer,
    values: ValueSettings,
    seed: int = 0,
) -> dict[str, list[Estimate]]:
    """Estimate each greedy policy's value on the holdout: IPS, SNIPS and doubly robust."""
    usable = [d for d in holdout if d.propensity and d.incident.currency in FX_PER_USD]
    if not usable:
        return {}
    rewards = np.array([_reward(d, values) for d in usable])
    propensities = np.array([d.propensity for d in usable])
    reward_values = [_greedy_values(reward_model, d, values)[1] for d in usable]
    predicted_logged = np.array(
        [v[d.logged_index] for v, d in zip(reward_values, usable, strict=True)]
    )
    out: dict[str, list[Estimate]] = {}
    for name, scorer in policies.items():
        picks = np.array([_greedy_values(scorer, d, values)[0] for d in usable])
        target = (picks == np.array([d.logged_index for d in usable])).astype(float)
        predicted_pick = np.array([v[p] for v, p in zip(reward_values, picks, strict=True)])
        common = {"n_boot": 500, "seed": seed}
        estimates = [ips(rewards, propensities, target, **common)]
        if target.any():
            estimates.append(snips(rewards, propensities, target, **common))
        estimates.append(
            doubly_robust(rewards, propensities, target, predicted_logged, predicted_pick, **common)
        )
        out[name] = estimates
    return out


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
    from models.artifact import load_artifact

    candidate = ModelScorer(load_artifact(out))
    estimates = policy_values(
        logged[cut:], {"candidate": candidate, "current": current}, candidate, values, seed
    )
    card["metrics"]["policy_values"] = {
        name: [e.as_dict() for e in found] for name, found in estimates.items()
    }
    card["metrics"]["current_model"] = current.version
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


def dr_bounds(card: dict[str, Any], policy: str) -> tuple[float, float, float] | None:
    """Return (estimate, low, high) of a policy's doubly robust value from a card."""
    for estimate in card.get("metrics", {}).get("policy_values", {}).get(policy, []):
        if estimate["method"] == "doubly_robust":
            return estimate["value"], estimate["low"], estimate["high"]
    return None


def promotion_verdict(card: dict[str, Any]) -> tuple[bool, str]:
    """Decide `--promote-if-better`: the new model's DR lower bound must beat the current
    model's DR estimate on the same holdout."""
    new, old = dr_bounds(card, "candidate"), dr_bounds(card, "current")
    if new is None or old is None:
        return False, "no off-policy estimate (no explored decisions in the holdout)"
    if new[1] > old[0]:
        return True, f"DR lower bound {new[1]:.1f} beats current {old[0]:.1f}"
    return False, f"DR lower bound {new[1]:.1f} does not beat current {old[0]:.1f}"


def now_version(prefix: str = "logged") -> str:
    """A version name from the current time."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"

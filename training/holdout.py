"""Judge a candidate on the holdout, apart from itself: reward model, policy values, log loss.

The doubly robust reward model is never the candidate: it is cross-fitted on the holdout
(training/reward_model.py `cross_fitted_values`). The two policies are then compared on the
same rows, paired (training/offpolicy.py `compare`), and the card's `metrics.gate` holds what
training/gate.py needs to decide promotion: the paired differences, each policy's overlap and
support, and both models' log loss on the holdout's logged plans (`retention_log_loss`, with
the net value calibration, in training/holdout_calibration.py).

The logged action is the plan shown first, not the plan accepted (training/logged.py): every
decision has its propensity, and a policy's value is that of showing its pick first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from remedy.decisions.exploration import ExplorationPolicy
from remedy.decisions.ranker import PlanScorer, ValueSettings
from training.gate import MAX_OUTSIDE_SUPPORT, MIN_AGREEMENT, MIN_ESS
from training.logged import LoggedDecision, Rates, _reward, net_values_many
from training.logs import greedy_index
from training.offpolicy import MAX_WEIGHT, Comparison, Estimate, compare, doubly_robust, ips, snips
from training.reward_model import RewardModelFit, cross_fitted_values, fit_reward_model
from training.simulator import FX_PER_USD


@dataclass(frozen=True)
class OffPolicyReport:
    """The holdout's off-policy evaluation: each policy's estimates and their paired comparison."""

    estimates: dict[str, list[Estimate]]  # "candidate", "current" -> IPS, SNIPS, DR
    comparison: Comparison | None  # candidate minus current, paired
    rows: int  # holdout decisions evaluated (a shown-first plan with a propensity, a known rate)
    # Priced holdout decisions left out for want of a shown-first plan among the kept candidates
    # (or of its propensity): counted, never dropped silently.
    without_shown_plan: int = 0
    # Share of the evaluated decisions where each policy's pick could have been shown first
    # (logged with probability > 0): "candidate", "current" -> share.
    support: dict[str, float] = field(default_factory=dict)
    # The exploration the support was judged by ({"rate", "top_k"}; None: any kept plan).
    exploration: dict[str, str | int] | None = None
    # Evaluated decisions whose shown-first plan lies outside that support: should be 0; more
    # says the holdout was not logged with that exploration.
    shown_outside_support: int = 0
    # Share of evaluated decisions whose accepted plan is the one shown first, when exploration
    # showed the best-ranked plan first and when it showed another one (None: no such rows).
    accepted_first: dict[str, float | None] = field(default_factory=dict)


def _in_support(
    index: np.ndarray, kept: np.ndarray, exploration: ExplorationPolicy | None
) -> np.ndarray:
    """Return whether each position could have been shown first (logging propensity > 0).

    By the exploration's own rule (remedy/decisions/exploration.py `propensities`): rank below
    K = min(top_k, kept), and only the best-ranked plan at rate 0. With no exploration given
    every kept plan could (the simulated logs' epsilon-greedy over all plans, training/logs.py).
    """
    if exploration is None:
        return np.ones(len(index), dtype=bool)
    positive = {n: np.array(exploration.propensities(int(n))) > 0 for n in set(kept.tolist())}
    return np.array([positive[n][i] for i, n in zip(index, kept, strict=True)], dtype=bool)


def _share(mask: np.ndarray, among: np.ndarray) -> float | None:
    """Return the share of `among` rows where `mask` holds (None when there are none)."""
    return float(mask[among].mean()) if among.any() else None


def policy_values(
    holdout: Sequence[LoggedDecision],
    candidate: PlanScorer,
    current: PlanScorer,
    values: ValueSettings,
    *,
    folds: int = 5,
    seed: int = 0,
    fit: RewardModelFit = fit_reward_model,
    rates: Rates = FX_PER_USD,
    exploration: ExplorationPolicy | None = None,
) -> OffPolicyReport:
    """Estimate both greedy policies' values on the holdout and compare them, paired.

    The action is the plan shown first (`LoggedDecision.shown_index`), which exploration drew
    with the stored propensity for every decision; the reward is what the decision realised
    (the accepted plan's outcome and cost). A policy's value is thus that of showing its pick
    first, the agents' acceptance included, and IPS is unbiased whatever the agents accept, as
    long as the pick could have been shown first: `exploration` is the policy the holdout was
    logged with (remedy/decisions/exploration.py; None when it could show any kept plan first)
    and the report gives each policy's share of decisions inside that support, which
    training/gate.py holds to `MAX_OUTSIDE_SUPPORT`. Decisions without a shown-first plan among
    the kept candidates are counted and left out.

    The doubly robust reward model is cross-fitted on the holdout (`cross_fitted_values`),
    apart from both policies; its weights are clipped at `MAX_WEIGHT` (training/offpolicy.py).
    Its q(x, a) for the logged action is its net value of the shown-first plan: the model
    predicts the outcome of a plan *given*, not of one shown first and perhaps passed over, so
    it is an approximation of the reward of the action; DR stays unbiased because the
    propensities are known, and only its variance pays for that.
    """
    priced = [d for d in holdout if d.incident.currency in rates]
    usable = [d for d in priced if d.shown_index is not None and d.propensity]
    missing = len(priced) - len(usable)
    if len(usable) < 2:
        return OffPolicyReport({}, None, len(usable), missing)
    picks = {
        name: np.array(
            [
                greedy_index(v, d.candidates)
                for v, d in zip(net_values_many(scorer, usable, values, rates), usable, strict=True)
            ]
        )
        for name, scorer in (("candidate", candidate), ("current", current))
    }
    # The reward model learns from every priced holdout outcome, explored or not, and predicts
    # only what the estimators read: the plan shown first and each policy's pick.
    needed = {id(d): (d.shown_index,) for d in priced}
    for i, d in enumerate(usable):
        needed[id(d)] = (d.shown_index, picks["candidate"][i], picks["current"][i])
    reward_values = cross_fitted_values(
        priced,
        values,
        folds=folds,
        seed=seed,
        fit=fit,
        rates=rates,
        positions=[sorted({p for p in needed[id(d)] if p is not None}) for d in priced],
    )
    by_id = {id(d): v for d, v in zip(priced, reward_values, strict=True)}
    q = [by_id[id(d)] for d in usable]
    shown = np.array([d.shown_index for d in usable], dtype=int)
    kept = np.array([len(d.candidates) for d in usable], dtype=int)
    rewards = np.array([_reward(d, values, rates) for d in usable])
    propensities = np.array([float(d.propensity or 0) for d in usable])
    predicted_logged = np.array([v[i] for v, i in zip(q, shown, strict=True)])
    common = {"n_boot": 500, "seed": seed}
    targets, predicted = {}, {}
    support: dict[str, float] = {}
    estimates: dict[str, list[Estimate]] = {}
    for name, chosen in picks.items():
        support[name] = float(_in_support(chosen, kept, exploration).mean())
        targets[name] = (chosen == shown).astype(float)
        predicted[name] = np.array([v[p] for v, p in zip(q, chosen, strict=True)])
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
    accepted = np.array([d.accepted_first for d in usable], dtype=bool)
    return OffPolicyReport(
        estimates,
        comparison,
        len(usable),
        missing,
        support=support,
        exploration=(
            {"rate": str(exploration.rate), "top_k": exploration.top_k} if exploration else None
        ),
        shown_outside_support=int((~_in_support(shown, kept, exploration)).sum()),
        accepted_first={
            "best_shown_first": _share(accepted, shown == 0),
            "other_shown_first": _share(accepted, shown > 0),
        },
    )


def _gate_section(
    report: OffPolicyReport, log_loss: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Return the card's `metrics.gate`: the paired comparison and log losses the gate reads."""
    if report.comparison is None:
        return None
    return {
        "retention_log_loss": log_loss,
        "rows": report.rows,
        "compared": "candidate minus current model, paired on the same holdout decisions",
        "action": "the plan shown first (drawn by exploration, its propensity logged for every "
        "decision); reward: what the decision realised with the plan accepted",
        "reward_model": "cross-fitted on the holdout (5 folds), fitted apart from both models",
        "thresholds": {
            "min_agreement": MIN_AGREEMENT,
            "min_ess": MIN_ESS,
            "max_outside_support": MAX_OUTSIDE_SUPPORT,
        },
        # "logged with probability > 0": the share of rows where each pick could be shown first
        "support": {
            "exploration": report.exploration,
            "new": report.support["candidate"],
            "old": report.support["current"],
            "shown_outside": report.shown_outside_support,
        },
        "without_shown_plan": report.without_shown_plan,
        "accepted_first": report.accepted_first,
        **report.comparison.as_dict(),
    }

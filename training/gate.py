"""The promotion gate: promote a retrained model only when the logs say it is better.

It reads the paired comparison training/from_logs.py writes into the model card
(`metrics.gate`: candidate minus current model on the same holdout rows, IPS, SNIPS and doubly
robust, with a cross-fitted reward model fitted apart from the candidate) and refuses, saying why:

1. No comparison: no holdout decision was logged with a propensity and a known exchange rate.
2. Low overlap: either policy picks the plan shown first (the logged action, training/logged.py)
   on fewer than `MIN_AGREEMENT` (10%) of the holdout decisions. Off-policy estimates only see
   rows where the policy's choice was logged; below one row in ten, doubly robust is mostly the
   reward model's own opinion of the plans the candidate prefers, and the issue that prompted
   this gate promoted a model exactly there.
3. Low effective sample size: either policy's importance weights are worth fewer than `MIN_ESS`
   (50) equally weighted rows. A percentile bootstrap over fewer rows than that under-covers,
   most of all with skewed weights, and the interval would look surer than it is.
4. Outside the logging support: either policy's pick could not have been shown first (its
   logging propensity is 0: ranked at or beyond exploration's K = min(top_k, kept plans))
   in more than `MAX_OUTSIDE_SUPPORT` (5%) of the holdout decisions, or the card has no support
   check. There IPS and DR are not just noisy but biased: IPS counts those rows as 0 whatever
   the pick would earn, and DR has only the reward model's word for them. 5% lets a policy
   that mostly stays within the top K through; beyond it, the bias may exceed the paired
   differences the gate promotes on (a few percent of a decision's value).
5. Disagreement: doubly robust says one thing and IPS or SNIPS the opposite, each beyond its own
   interval (one difference's interval wholly above 0, the other's wholly below). Either the
   reward model or the propensities are wrong; no estimate should be trusted until it is found.
6. Worse fit: the candidate's log loss of P(stay) on the holdout's logged plans is above the
   current model's (`metrics.gate.retention_log_loss`). A model that predicts what customers
   did worse than the one it would replace is not promoted on a policy value, however good:
   policy values rest on the same predictions, and issue 13's retrained model overstated net
   values by 19% while its intervals looked fine.
7. Not better: the doubly robust difference's lower bound is not above 0.

Thresholds are constants here, not options: a gate one can lower from the command line is not a
gate. Change them in review, with the reason.
"""

from __future__ import annotations

from typing import Any

MIN_AGREEMENT = 0.10  # share of holdout decisions where the policy's pick is the logged plan
MIN_ESS = 50.0  # Kish effective sample size of each policy's importance weights
MAX_OUTSIDE_SUPPORT = 0.05  # share of holdout decisions where a pick could not be shown first
POLICIES = {"new": "candidate", "old": "current model"}


def _interval(estimate: dict[str, Any]) -> str:
    """Format a difference with its interval."""
    return f"{estimate['value']:+.1f} [{estimate['low']:+.1f}, {estimate['high']:+.1f}]"


def _refuse_overlap(gate: dict[str, Any]) -> str | None:
    """Return why the log covers either policy too thinly, if it does."""
    for key, name in POLICIES.items():
        found = gate[key]
        if found["agreement"] < MIN_AGREEMENT:
            return (
                f"low overlap: the {name} picks the logged plan in {found['agreement']:.1%} of "
                f"{gate['rows']} holdout decisions (need {MIN_AGREEMENT:.0%})"
            )
        if found["ess"] < MIN_ESS:
            return (
                f"low effective sample size: the {name}'s importance weights are worth "
                f"{found['ess']:.1f} rows (need {MIN_ESS:.0f})"
            )
    return None


def _refuse_support(gate: dict[str, Any]) -> str | None:
    """Return why either policy's picks lie outside what exploration could show first, if so."""
    support = gate.get("support")
    if not support:
        return "no support check: the card does not say where the policies' picks were logged"
    for key, name in POLICIES.items():
        if support[key] < 1.0 - MAX_OUTSIDE_SUPPORT:  # not 1 - share > max: 0.95 is allowed
            outside = 1.0 - support[key]
            return (
                f"outside the logging support: the {name}'s pick could never have been shown "
                f"first (logging propensity 0) in {outside:.1%} of "
                f"{gate['rows']} holdout decisions (at most {MAX_OUTSIDE_SUPPORT:.0%}); "
                "IPS and doubly robust are biased there"
            )
    return None


def _refuse_disagreement(differences: dict[str, dict[str, Any]]) -> str | None:
    """Return why DR and IPS/SNIPS contradict each other beyond their intervals, if they do."""
    dr = differences["doubly_robust"]
    for method in ("ips", "snips"):
        other = differences.get(method)
        if other is None:
            continue
        if (dr["low"] > 0 and other["high"] < 0) or (dr["high"] < 0 and other["low"] > 0):
            return (
                f"estimators disagree: doubly robust difference {_interval(dr)} but "
                f"{method.upper()} {_interval(other)}; check the reward model and propensities"
            )
    return None


def _refuse_log_loss(gate: dict[str, Any]) -> str | None:
    """Return why the candidate fits the logged outcomes worse than the current model, if so."""
    losses = gate.get("retention_log_loss")
    if not losses:
        return "no log loss comparison on the holdout's logged plans"
    if losses["candidate"] > losses["current"]:
        return (
            f"worse fit: holdout log loss {losses['candidate']:.4f} on {losses['rows']} logged "
            f"plans against the current model's {losses['current']:.4f}"
        )
    return None


def promotion_verdict(card: dict[str, Any]) -> tuple[bool, str]:
    """Decide `--promote-if-better` from a model card; return the decision and its reason."""
    gate = card.get("metrics", {}).get("gate")
    if not gate:
        return False, "no off-policy comparison (no explored decisions with a rate in the holdout)"
    reason = _refuse_overlap(gate) or _refuse_support(gate)
    if reason:
        return False, reason
    differences = {e["method"]: e for e in gate["differences"]}
    reason = _refuse_disagreement(differences) or _refuse_log_loss(gate)
    if reason:
        return False, reason
    dr = differences["doubly_robust"]
    others = ", ".join(
        f"{m.upper()} {_interval(differences[m])}" for m in ("ips", "snips") if m in differences
    )
    summary = (
        f"doubly robust difference {_interval(dr)} USD per decision ({others}; "
        f"overlap {gate['new']['agreement']:.0%}, ESS {gate['new']['ess']:.0f})"
    )
    if dr["low"] > 0:
        return True, f"better: {summary}"
    return False, f"not shown better: {summary}"

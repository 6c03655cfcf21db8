"""The plan's columns of a feature row: what a plan gives, as ratios to the incident's loss.

These columns are the same in every feature definition (models/features.py adds the incident's
in front of them, per version). Two builders compute them: `plan_features` one plan at a time,
and `plan_columns` many plans at once as arrays, bitwise the same (the what-if's and the
service's path). Money enters only as ratios to the loss (floored by `ratio_scale` for incidents
without one), clipped so a fixed-price item against a tiny loss gives no absurd ratio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from remedy.domain import CONTACT_LEVELS, FIX_KINDS, Action, Incident, Kind, Plan

FIX_KIND_NAMES: tuple[str, ...] = (
    "none",
    str(Kind.REFUND),
    str(Kind.CREDIT),
    str(Kind.REPLACEMENT),
)
# The plan's columns: the same in every version.
PLAN_FEATURES: tuple[str, ...] = (
    "fix_kind",
    "fix_value_ratio",  # value of the fix / loss
    "gift_value_ratio",  # value of gifts to the customer / loss
    "total_value_ratio",  # value of the whole plan / loss
    "cost_ratio",  # cost of the whole plan / loss
    "has_apology",
    "contact_rank",  # 0 none, 1 agent, 2 manager, 3 executive, 4 leader
    "has_upgrade",
    "has_expedite",
    "companion_gift",
    "n_actions",
)
_RATIO_MAX = 50.0  # a fixed-price item against a tiny loss must not produce absurd ratios
_FIX_CODE = {kind: float(FIX_KIND_NAMES.index(str(kind))) for kind in FIX_KINDS}


def ratio_scale(incident: Incident) -> float:
    """Return the denominator of every ratio: the loss, floored for incidents without one."""
    # A loss of zero (rudeness with nothing to refund) would make every ratio infinite; a
    # thousandth of the customer's annual value stands in, and a tiny constant if that is zero too.
    return max(float(incident.loss_amount), 0.001 * float(incident.customer_value), 1e-6)


def _ratio(amount: float, scale: float) -> float:
    """Return amount / scale, clipped to a range the model has seen."""
    return min(amount / scale, _RATIO_MAX)


def plan_features(plan: Plan, scale: float) -> list[float]:
    """Return the plan's columns of a feature row; `scale` is the incident's loss (floored)."""
    fix_code = 0.0  # "none": the same code in every definition
    fix_value = gift_value = total_value = cost = 0.0
    apology = upgrade = expedite = companions = 0.0
    rank = 0
    for action in plan.actions:
        kind = action.kind
        value = float(action.value)
        total_value += value
        cost += float(action.cost)
        # `==`, not `is`: a planner may hand over plain strings for kinds (StrEnum compares equal).
        if kind in _FIX_CODE:
            fix_code = _FIX_CODE[kind]
            fix_value += value
        elif kind == Kind.GIFT:
            if action.audience == "companions":
                companions = 1.0
            else:
                gift_value += value
        elif kind == Kind.APOLOGY:
            apology = 1.0
        elif kind == Kind.PERSONAL_CONTACT:
            level = action.level
            rank = max(rank, CONTACT_LEVELS.index(level) + 1 if level in CONTACT_LEVELS else 0)
        elif kind == Kind.UPGRADE:
            upgrade = 1.0
        elif kind == Kind.EXPEDITE:
            expedite = 1.0
    return [
        fix_code,
        _ratio(fix_value, scale),
        _ratio(gift_value, scale),
        _ratio(total_value, scale),
        _ratio(cost, scale),
        apology,
        float(rank),
        upgrade,
        expedite,
        companions,
        float(len(plan.actions)),
    ]


def plan_columns(actions: Sequence[Action], positions: np.ndarray, scale: float) -> np.ndarray:
    """Return `plan_features` for many plans at once: the same numbers to the last bit.

    `actions` are an incident's eligible actions and `positions` (plans x width) the positions
    of each plan's actions among them, in the plan's order, padded with `len(actions)`. Each
    action's contribution is read once; every sum adds the plan's actions in its order starting
    from 0.0, as `plan_features` does (the padding adds 0.0, which changes no float), so the
    rows are bitwise those of the loop (tests/models/test_plan_columns.py). This is the what-if's
    and the service's path: a feature row per plan in Python cost more than the model's walk.
    """
    n = len(actions) + 1  # the last entry is the padding: contributes nothing
    value, cost, fix_code, fix_value, gift_value = (np.zeros(n) for _ in range(5))
    flags = np.zeros((n, 5))  # apology, contact rank, upgrade, expedite, companions
    for index, action in enumerate(actions):
        kind = action.kind
        value[index] = amount = float(action.value)
        cost[index] = float(action.cost)
        if kind in _FIX_CODE:
            fix_code[index] = _FIX_CODE[kind]
            fix_value[index] = amount
        elif kind == Kind.GIFT:
            if action.audience == "companions":
                flags[index, 4] = 1.0
            else:
                gift_value[index] = amount
        elif kind == Kind.APOLOGY:
            flags[index, 0] = 1.0
        elif kind == Kind.PERSONAL_CONTACT:
            level = action.level
            flags[index, 1] = CONTACT_LEVELS.index(level) + 1 if level in CONTACT_LEVELS else 0
        elif kind == Kind.UPGRADE:
            flags[index, 2] = 1.0
        elif kind == Kind.EXPEDITE:
            flags[index, 3] = 1.0
    rows = len(positions)
    sums = np.zeros((4, rows))  # fix value, gift value, total value, cost
    code = np.zeros(rows)
    most = np.zeros((rows, 5))
    contributions = np.stack([fix_value, gift_value, value, cost])
    for column in positions.T:  # the plans' k-th actions
        sums += contributions[:, column]
        step = fix_code[column]
        code = np.where(step != 0.0, step, code)  # the last fix's code, as the loop assigns
        np.maximum(most, flags[column], out=most)
    out = np.empty((rows, len(PLAN_FEATURES)))
    out[:, 0] = code
    out[:, 1:5] = np.minimum(sums / scale, _RATIO_MAX).T
    out[:, 5:10] = most
    out[:, 10] = (positions < len(actions)).sum(axis=1)
    return out

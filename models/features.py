"""The one feature definition shared by training and serving.

Every row describes one (incident, plan) pair as floats. Money enters only as ratios to the
incident's loss (and the customer's annual value to the loss), so the same model serves EUR and
JPY incidents alike. Categorical columns are carried as ordinal codes of fixed vocabularies; the
pipeline checks them against those vocabularies and the trees split on them as categories
(models/pipeline.py), so an unseen category becomes a missing value instead of an error. Models
trained before that one-hot encoded the codes; `one_hot` and `ordinal` are NumPy twins of the
two encoders, for serving either. A plain float array is what the serving path wants: a
DataFrame per request costs more than the model does (measured: benchmarks/README.md,
"NumPy array in, not a DataFrame").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from remedy.domain import CONTACT_LEVELS, FIX_KINDS, FaultType, Incident, Kind, Plan

FAULT_TYPES: tuple[str, ...] = tuple(str(f) for f in FaultType)
CATEGORIES: tuple[str, ...] = (
    "delivery",
    "billing",
    "product_defect",
    "outage",
    "service_rudeness",
    "other",
)
CHANNELS: tuple[str, ...] = ("email", "chat", "phone", "social")
FIX_KIND_NAMES: tuple[str, ...] = (
    "none",
    str(Kind.REFUND),
    str(Kind.CREDIT),
    str(Kind.REPLACEMENT),
)

# Column order of the feature matrix. Changing it changes the model's input: bump the model.
FEATURE_NAMES: tuple[str, ...] = (
    "severity",
    "fault_type",
    "churn_threat",
    "category",
    "channel",
    "log_value_ratio",  # log(customer_value / loss)
    "fix_kind",
    "fix_value_ratio",  # value of the fix / loss
    "gift_value_ratio",  # value of gifts to the customer / loss
    "total_value_ratio",  # value of the whole plan / loss
    "cost_ratio",  # cost of the whole plan / loss
    "has_apology",
    "contact_rank",  # 0 none, 1 agent, 2 manager, 3 executive
    "has_upgrade",
    "has_expedite",
    "companion_gift",
    "n_actions",
)
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "fault_type": FAULT_TYPES,
    "category": CATEGORIES,
    "channel": CHANNELS,
    "fix_kind": FIX_KIND_NAMES,
}
CATEGORICAL_COLUMNS: tuple[int, ...] = tuple(FEATURE_NAMES.index(n) for n in VOCABULARIES)
NUMERIC_COLUMNS: tuple[int, ...] = tuple(
    i for i, name in enumerate(FEATURE_NAMES) if name not in VOCABULARIES
)
# The feature definition's version. Bump it whenever a column's value for the same incident and
# plan would change (a column added or moved, a ratio or a code changed). Each outcome stores the
# feature row of its plan, computed when it is recorded (remedy/services/outcomes.py), so that
# retraining on a million outcomes reads 17 floats a row instead of rebuilding each plan;
# training reuses a stored row only when its version is this one (training/read_logs.py) and
# computes the rest. tests/models/test_features.py pins the rows of a fixed probe: changing what
# a column holds without bumping this fails there.
FEATURE_VERSION = 1
_ROW_DTYPE = np.dtype("<f8")  # stored rows: little-endian float64, exactly the computed floats


def row_to_bytes(row: np.ndarray) -> bytes:
    """Return a feature row as stored with an outcome."""
    if row.shape != (len(FEATURE_NAMES),):
        raise ValueError(f"a feature row has {len(FEATURE_NAMES)} columns, not {row.shape}")
    return row.astype(_ROW_DTYPE).tobytes()


def rows_from_bytes(blobs: Sequence[bytes]) -> np.ndarray:
    """Return stored feature rows as one float matrix (one row per blob)."""
    if not blobs:
        return np.empty((0, len(FEATURE_NAMES)))
    matrix = np.frombuffer(b"".join(blobs), dtype=_ROW_DTYPE).reshape(len(blobs), -1)
    if matrix.shape[1] != len(FEATURE_NAMES):
        raise ValueError("stored feature rows do not have this definition's columns")
    return matrix.astype(float)


UNKNOWN_CODE = -1.0  # in no vocabulary: the ordinal encoder maps it to NaN (one-hot: all zeros)

_CODES = {name: {v: float(i) for i, v in enumerate(vocab)} for name, vocab in VOCABULARIES.items()}
_FIX_CODE = {kind: _CODES["fix_kind"][str(kind)] for kind in FIX_KINDS}
_N_INCIDENT = 6  # the first six columns describe the incident, the rest the plan
_RATIO_MAX = 50.0  # a fixed-price item against a tiny loss must not produce absurd ratios
_LOG_RATIO_RANGE = (-5.0, 12.0)


def categories() -> list[np.ndarray]:
    """Return the codes of each categorical column, in CATEGORICAL_COLUMNS order."""
    return [np.arange(len(vocab), dtype=float) for vocab in VOCABULARIES.values()]


_ONE_HOT_CODES = np.concatenate(categories())
_ONE_HOT_COLUMNS = np.repeat(CATEGORICAL_COLUMNS, [len(v) for v in VOCABULARIES.values()])


def one_hot(x: np.ndarray) -> np.ndarray:
    """Return rows encoded as the one-hot encoder of earlier models did, then numeric columns.

    A NumPy twin of the encoder of the pipelines before `ordinal` (artifact sim-1), for the
    serving path, where the ColumnTransformer's input checks cost more than the trees;
    ModelScorer uses it only after checking on a probe that it matches the artifact's fitted
    encoder exactly.
    """
    hot = (x[:, _ONE_HOT_COLUMNS] == _ONE_HOT_CODES).astype(float)
    return np.hstack([hot, x[:, NUMERIC_COLUMNS]])


_VOCABULARY_SIZES = np.array([len(v) for v in VOCABULARIES.values()], dtype=float)


def ordinal(x: np.ndarray) -> np.ndarray:
    """Return rows encoded as the pipeline's encoder does: checked codes, then numeric columns.

    A NumPy twin of models.pipeline.encoder(): a code in its column's vocabulary stays as it
    is, anything else (the unknown code -1, a code past the vocabulary) becomes NaN. Used by
    ModelScorer only after checking on a probe that it matches the artifact's fitted encoder.
    """
    codes = x[:, CATEGORICAL_COLUMNS]
    known = (codes >= 0) & (codes < _VOCABULARY_SIZES) & (codes == np.floor(codes))
    return np.hstack([np.where(known, codes, np.nan), x[:, NUMERIC_COLUMNS]])


def _scale(incident: Incident) -> float:
    """Return the denominator of every ratio: the loss, floored for incidents without one."""
    # A loss of zero (rudeness with nothing to refund) would make every ratio infinite; a
    # thousandth of the customer's annual value stands in, and a tiny constant if that is zero too.
    return max(float(incident.loss_amount), 0.001 * float(incident.customer_value), 1e-6)


def _ratio(amount: float, scale: float) -> float:
    """Return amount / scale, clipped to a range the model has seen."""
    return min(amount / scale, _RATIO_MAX)


def incident_features(incident: Incident) -> list[float]:
    """Return the incident's columns of a feature row."""
    scale = _scale(incident)
    log_ratio = math.log(max(float(incident.customer_value), 1e-6) / scale)
    return [
        float(incident.severity),
        _CODES["fault_type"].get(str(incident.fault_type), UNKNOWN_CODE),
        1.0 if incident.churn_threat else 0.0,
        _CODES["category"].get(incident.category, UNKNOWN_CODE),
        _CODES["channel"].get(incident.channel, UNKNOWN_CODE),
        min(max(log_ratio, _LOG_RATIO_RANGE[0]), _LOG_RATIO_RANGE[1]),
    ]


def plan_features(plan: Plan, scale: float) -> list[float]:
    """Return the plan's columns of a feature row; `scale` is the incident's loss (floored)."""
    fix_code = _CODES["fix_kind"]["none"]
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


def feature_matrix(incident: Incident, plans: Sequence[Plan]) -> np.ndarray:
    """Return one float row per plan of `incident`, columns in FEATURE_NAMES order."""
    out = np.empty((len(plans), len(FEATURE_NAMES)))
    out[:, :_N_INCIDENT] = incident_features(incident)
    if plans:
        scale = _scale(incident)
        out[:, _N_INCIDENT:] = [plan_features(plan, scale) for plan in plans]
    return out


def feature_rows(records: Iterable[tuple[Incident, Plan]]) -> np.ndarray:
    """Return one float row per logged (incident, plan) pair, as the training set needs."""
    rows = [
        incident_features(incident) + plan_features(plan, _scale(incident))
        for incident, plan in records
    ]
    if not rows:
        return np.empty((0, len(FEATURE_NAMES)))
    return np.asarray(rows, dtype=float)

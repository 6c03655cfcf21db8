"""The one feature definition shared by training and serving (one per version, FEATURE_VERSION).

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

from remedy.domain import (
    CONTACT_LEVELS,
    CUSTOMER_STATUSES,
    DEFAULT_REACH,
    FIX_KINDS,
    Action,
    FaultType,
    Incident,
    Kind,
    Plan,
)

FAULT_TYPES: tuple[str, ...] = tuple(str(f) for f in FaultType)
# Version 1's vocabularies, kept as they were: models trained on them (sim-1 to sim-3) must keep
# scoring the codes they learned.
CATEGORIES_V1: tuple[str, ...] = (
    "delivery",
    "billing",
    "product_defect",
    "outage",
    "service_rudeness",
    "other",
)
CHANNELS_V1: tuple[str, ...] = ("email", "chat", "phone", "social")
# Version 2: every category of the bundled catalog's vocabulary (catalog/default_catalog.yaml;
# version 1's in their order, the rest after, so codes never move) and every channel the API
# takes (remedy/domain.py CHANNELS). A category an admin adds later is an unknown code (a
# missing value to the trees) until a model is trained with it in a new feature version;
# tests/models/test_features.py checks this list covers the bundled vocabulary.
CATEGORIES: tuple[str, ...] = (*CATEGORIES_V1, "wrong_item", "subscription")
CHANNELS: tuple[str, ...] = (*CHANNELS_V1, "review", "web", "store")
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
_INCIDENT_V1: tuple[str, ...] = (
    "severity",
    "fault_type",
    "churn_threat",
    "category",
    "channel",
    "log_value_ratio",  # log(customer_value / loss)
)
# Version 2 sees what the rules see (issue 25): a public complaint and its audience, a repeat
# victim, where the customer stands, and an incident where nothing was lost.
_INCIDENT_V2: tuple[str, ...] = (
    *_INCIDENT_V1,
    "public",  # seen by others: said so, or a social or review channel
    "log_reach",  # log10(1 + audience) of a public complaint (unknown: DEFAULT_REACH); 0 private
    "prior_incidents",  # earlier incidents with a plan given, in the window (at most 10)
    "customer_status",  # active, leaving or left
    "no_loss",  # nothing was lost (a rude call, a broken promise): ratios are on a stand-in
)
MAX_PRIOR_INCIDENTS = 10  # more than ten earlier incidents reads as ten (a bounded column)
UNKNOWN_CODE = -1.0  # in no vocabulary: the ordinal encoder maps it to NaN (one-hot: all zeros)
_RATIO_MAX = 50.0  # a fixed-price item against a tiny loss must not produce absurd ratios
_LOG_RATIO_RANGE = (-5.0, 12.0)
_FIX_CODE = {kind: float(FIX_KIND_NAMES.index(str(kind))) for kind in FIX_KINDS}
_ROW_DTYPE = np.dtype("<f8")  # stored rows: little-endian float64, exactly the computed floats


class FeatureDefinition:
    """One version of the feature rows: column names, vocabularies, and the row builder.

    A trained artifact names its columns on its card (models/artifact.py); the definition with
    exactly those names builds its rows, so a model trained on an earlier version keeps scoring
    after the columns grew (`definition_for`). Training always uses the newest (`CURRENT`).
    """

    def __init__(
        self,
        version: int,
        incident_names: tuple[str, ...],
        vocabularies: dict[str, tuple[str, ...]],
    ) -> None:
        """Fix the columns (incident's, then the plan's) and each categorical vocabulary."""
        self.version = version
        self.names: tuple[str, ...] = (*incident_names, *PLAN_FEATURES)
        self.n_incident = len(incident_names)
        self.vocabularies = vocabularies
        self.categorical_columns: tuple[int, ...] = tuple(self.names.index(n) for n in vocabularies)
        self.numeric_columns: tuple[int, ...] = tuple(
            i for i, name in enumerate(self.names) if name not in vocabularies
        )
        self._codes = {
            name: {v: float(i) for i, v in enumerate(vocab)} for name, vocab in vocabularies.items()
        }
        self._sizes = np.array([len(v) for v in vocabularies.values()], dtype=float)
        self._one_hot_codes = np.concatenate(self.categories())
        self._one_hot_columns = np.repeat(
            self.categorical_columns, [len(v) for v in vocabularies.values()]
        )

    @property
    def sees_word_of_mouth(self) -> bool:
        """Whether rows say who hears the complaint and where the customer stands (version 2
        on): a model trained on them learns word of mouth from observed referrals."""
        return "log_reach" in self.names

    def categories(self) -> list[np.ndarray]:
        """Return the codes of each categorical column, in `categorical_columns` order."""
        return [np.arange(len(vocab), dtype=float) for vocab in self.vocabularies.values()]

    def code(self, column: str, value: str) -> float:
        """Return a value's code in a column's vocabulary (UNKNOWN_CODE when it is not in it)."""
        return self._codes[column].get(value, UNKNOWN_CODE)

    def incident_features(self, incident: Incident) -> list[float]:
        """Return the incident's columns of a feature row."""
        scale = _scale(incident)
        log_ratio = math.log(max(float(incident.customer_value), 1e-6) / scale)
        row = [
            float(incident.severity),
            self.code("fault_type", str(incident.fault_type)),
            1.0 if incident.churn_threat else 0.0,
            self.code("category", incident.category),
            self.code("channel", incident.channel),
            min(max(log_ratio, _LOG_RATIO_RANGE[0]), _LOG_RATIO_RANGE[1]),
        ]
        if self.version == 1:
            return row
        public = incident.is_public
        reach = incident.reach if incident.reach is not None else DEFAULT_REACH
        return [
            *row,
            1.0 if public else 0.0,
            math.log10(1 + max(0, reach)) if public else 0.0,
            float(min(max(incident.prior_incidents, 0), MAX_PRIOR_INCIDENTS)),
            self.code("customer_status", incident.customer_status),
            1.0 if incident.loss_amount == 0 else 0.0,
        ]

    def matrix(self, incident: Incident, plans: Sequence[Plan]) -> np.ndarray:
        """Return one float row per plan of `incident`, columns in `names` order."""
        out = np.empty((len(plans), len(self.names)))
        out[:, : self.n_incident] = self.incident_features(incident)
        if plans:
            scale = _scale(incident)
            positions = getattr(plans, "positions", None)
            if positions is not None:  # the planner's list (remedy/decisions/planner.py)
                out[:, self.n_incident :] = plan_columns(plans.actions, positions, scale)  # type: ignore[attr-defined]
            else:
                out[:, self.n_incident :] = [plan_features(plan, scale) for plan in plans]
        return out

    def rows(self, records: Iterable[tuple[Incident, Plan]]) -> np.ndarray:
        """Return one float row per logged (incident, plan) pair, as the training set needs."""
        rows = [
            self.incident_features(incident) + plan_features(plan, _scale(incident))
            for incident, plan in records
        ]
        if not rows:
            return np.empty((0, len(self.names)))
        return np.asarray(rows, dtype=float)

    def one_hot(self, x: np.ndarray) -> np.ndarray:
        """Return rows encoded as the one-hot encoder of earlier models did, then numeric columns.

        A NumPy twin of the encoder of the pipelines before `ordinal` (artifact sim-1), for the
        serving path, where the ColumnTransformer's input checks cost more than the trees;
        ModelScorer uses it only after checking on a probe that it matches the artifact's fitted
        encoder exactly.
        """
        hot = (x[:, self._one_hot_columns] == self._one_hot_codes).astype(float)
        return np.hstack([hot, x[:, self.numeric_columns]])

    def ordinal(self, x: np.ndarray) -> np.ndarray:
        """Return rows encoded as the pipeline's encoder does: checked codes, then numeric columns.

        A NumPy twin of models.pipeline.encoder(): a code in its column's vocabulary stays as it
        is, anything else (the unknown code -1, a code past the vocabulary) becomes NaN. Used by
        ModelScorer only after checking on a probe that it matches the artifact's fitted encoder.
        """
        codes = x[:, self.categorical_columns]
        known = (codes >= 0) & (codes < self._sizes) & (codes == np.floor(codes))
        return np.hstack([np.where(known, codes, np.nan), x[:, self.numeric_columns]])


V1 = FeatureDefinition(
    1,
    _INCIDENT_V1,
    {
        "fault_type": FAULT_TYPES,
        "category": CATEGORIES_V1,
        "channel": CHANNELS_V1,
        "fix_kind": FIX_KIND_NAMES,
    },
)
V2 = FeatureDefinition(
    2,
    _INCIDENT_V2,
    {
        "fault_type": FAULT_TYPES,
        "category": CATEGORIES,
        "channel": CHANNELS,
        "customer_status": CUSTOMER_STATUSES,
        "fix_kind": FIX_KIND_NAMES,
    },
)
DEFINITIONS: dict[int, FeatureDefinition] = {1: V1, 2: V2}
CURRENT = V2


def definition_for(names: Sequence[str]) -> FeatureDefinition | None:
    """Return the definition whose columns are exactly `names` (an artifact's card), if any."""
    return next((d for d in DEFINITIONS.values() if list(d.names) == list(names)), None)


# Column order of the feature matrix. Changing it changes the model's input: add a definition.
FEATURE_NAMES: tuple[str, ...] = CURRENT.names
VOCABULARIES: dict[str, tuple[str, ...]] = CURRENT.vocabularies
CATEGORICAL_COLUMNS: tuple[int, ...] = CURRENT.categorical_columns
NUMERIC_COLUMNS: tuple[int, ...] = CURRENT.numeric_columns
# The feature definition's version. Bump it whenever a column's value for the same incident and
# plan would change (a column added or moved, a ratio or a code changed), and keep the old
# definition in DEFINITIONS so that artifacts trained on it still load and score. Each outcome
# stores the feature row of its plan, computed when it is recorded (remedy/services/outcomes.py),
# so that retraining on a million outcomes reads 22 floats a row instead of rebuilding each plan;
# training reuses a stored row only when its version is this one (training/read_logs.py) and
# computes the rest. tests/models/test_features.py pins the rows of a fixed probe: changing what
# a column holds without bumping this fails there.
FEATURE_VERSION = CURRENT.version


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


def _scale(incident: Incident) -> float:
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


def categories() -> list[np.ndarray]:
    """Return the codes of each categorical column of the current definition."""
    return CURRENT.categories()


def one_hot(x: np.ndarray) -> np.ndarray:
    """Return the current definition's rows one-hot encoded (`FeatureDefinition.one_hot`)."""
    return CURRENT.one_hot(x)


def ordinal(x: np.ndarray) -> np.ndarray:
    """Return the current definition's rows as the pipeline encodes them."""
    return CURRENT.ordinal(x)


def feature_matrix(incident: Incident, plans: Sequence[Plan]) -> np.ndarray:
    """Return one float row per plan of `incident` (the current definition), as serving needs."""
    return CURRENT.matrix(incident, plans)


def feature_rows(records: Iterable[tuple[Incident, Plan]]) -> np.ndarray:
    """Return one float row per logged (incident, plan) pair (the current definition)."""
    return CURRENT.rows(records)

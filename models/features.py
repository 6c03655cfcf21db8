"""The one feature definition shared by training and serving (one per version, FEATURE_VERSION).

Every row describes one (incident, plan) pair as floats: the incident's columns (per version,
here) and then the plan's (the same in every version: models/plan_features.py). Money enters
only as ratios to the incident's loss (and the customer's annual value to the loss), so the
same model serves EUR and JPY incidents alike. Categorical columns are carried as ordinal
codes of fixed vocabularies; the pipeline checks them against those vocabularies and the trees
split on them as categories (models/pipeline.py), so an unseen category becomes a missing value
instead of an error. Models trained before that one-hot encoded the codes; `one_hot` and
`ordinal` are NumPy twins of the two encoders, for serving either. A plain float array is what
the serving path wants: a DataFrame per request costs more than the model does (measured:
benchmarks/README.md, "NumPy array in, not a DataFrame").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from models.plan_features import (
    FIX_KIND_NAMES,
    PLAN_FEATURES,
    plan_columns,
    plan_features,
    ratio_scale,
)
from remedy.domain import (
    CUSTOMER_STATUSES,
    DEFAULT_REACH,
    FaultType,
    Incident,
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
_LOG_RATIO_RANGE = (-5.0, 12.0)
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
        scale = ratio_scale(incident)
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
            scale = ratio_scale(incident)
            positions = getattr(plans, "positions", None)
            if positions is not None:  # the planner's list (remedy/decisions/planner.py)
                out[:, self.n_incident :] = plan_columns(plans.actions, positions, scale)  # type: ignore[attr-defined]
            else:
                out[:, self.n_incident :] = [plan_features(plan, scale) for plan in plans]
        return out

    def rows(self, records: Iterable[tuple[Incident, Plan]]) -> np.ndarray:
        """Return one float row per logged (incident, plan) pair, as the training set needs."""
        rows = [
            self.incident_features(incident) + plan_features(plan, ratio_scale(incident))
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

"""The trained model behind the `PlanScorer` protocol the ranker uses."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController

from models.artifact import Artifact
from models.calibration import CalibrationMap, booster, calibrator, is_calibrated
from models.features import FeatureDefinition
from models.forest import FlatForest, NotFlattenable
from models.pipeline import REFERRALS, RETENTION
from remedy.domain import Incident, Plan

P_MIN, P_MAX = 0.001, 0.999  # never certain: a plan is ranked on a probability, not a verdict


def _probe_matrix(features: FeatureDefinition) -> np.ndarray:
    """Return rows covering every categorical code and an unknown one, with varied numbers."""
    longest = max(len(vocab) for vocab in features.vocabularies.values())
    rows = longest + 1
    probe = np.tile(np.linspace(-2.0, 7.5, rows)[:, None], (1, len(features.names)))
    for column in features.categorical_columns:
        probe[:, column] = np.arange(rows) - 1.0  # -1 is the unknown code, then every code
    return probe


Encoding = Callable[[np.ndarray], np.ndarray]


def encodings(features: FeatureDefinition) -> tuple[Encoding, ...]:
    """NumPy twins of the encoders the pipelines have had: the current one (models/pipeline.py)
    first, then the one-hot encoder of earlier artifacts (sim-1), which must keep serving."""
    return (features.ordinal, features.one_hot)


def _calibration_map(retention: Pipeline) -> CalibrationMap | None:
    """Return the NumPy twin of the retention pipeline's calibration step (None: uncalibrated).

    Raises `NotFlattenable` for a calibration step the twin does not reproduce.
    """
    try:
        fitted = calibrator(retention[-1])
        return CalibrationMap(fitted) if fitted is not None else None
    except ValueError as exc:
        raise NotFlattenable(str(exc)) from None


def _flat_predict(
    forest: FlatForest, calibration: CalibrationMap | None, encoded: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return P(stay) and referrals from the flat forest, P(stay) through the calibration.

    Without a calibration step P(stay) is the booster's own probability, as before issue 13.
    """
    raw = forest.raw_predict(encoded)
    p_stay, referrals = forest.response(raw)
    if calibration is not None:
        p_stay = calibration(raw[0])
    return p_stay, referrals


def _flat_forest(
    retention: Pipeline, referrals: Pipeline, encode: Encoding, probe: np.ndarray
) -> tuple[FlatForest, CalibrationMap | None] | None:
    """Return both fitted estimators laid flat, if that predicts exactly what they predict.

    With the retention model's calibration step (models/calibration.py) the booster inside
    it is laid flat and its raw score mapped by the step's numbers. Checked on the
    probe rows (every code, varied numbers) encoded, against the estimators' own predictions
    (calibrated, when the step is there): any difference beyond floating-point summation order,
    or an estimator the flat layout does not support, keeps scikit-learn's own path.
    """
    try:
        calibration = _calibration_map(retention)
        forest = FlatForest([booster(retention[-1]), referrals[-1]])
    except NotFlattenable:
        return None
    encoded = encode(probe)
    forest.check_compiled(encoded)  # large batches: scikit-learn's walk, if it finds these leaves
    flat_p_stay, flat_referrals = _flat_predict(forest, calibration, encoded)
    same = np.allclose(
        flat_p_stay, retention[-1].predict_proba(encoded)[:, 1], rtol=1e-9, atol=1e-12
    ) and np.allclose(flat_referrals, referrals[-1].predict(encoded), rtol=1e-9, atol=1e-12)
    return (forest, calibration) if same else None


def _encodes_like(pipeline: Pipeline, encode: Encoding, probe: np.ndarray) -> bool:
    """Tell whether the pipeline's encoding steps give exactly what `encode` gives."""
    encoded = pipeline[:-1].transform(probe)
    expected = encode(probe)
    return encoded.shape == expected.shape and bool(
        np.array_equal(encoded, expected, equal_nan=True)
    )


def _twin_encoding(pipelines: Sequence[Pipeline], features: FeatureDefinition) -> Encoding | None:
    """Return the NumPy encoding every pipeline's encoder matches exactly, if there is one."""
    probe = _probe_matrix(features)
    for encode in encodings(features):
        if all(_encodes_like(pipeline, encode, probe) for pipeline in pipelines):
            return encode
    return None


class ModelScorer:
    """Predicts P(stay) and expected referrals for all plans of a decision in one batch."""

    def __init__(self, artifact: Artifact, threads: int | None = 1) -> None:
        """Keep the artifact's pipelines; `threads` caps OpenMP per prediction (None: all)."""
        self.artifact = artifact
        # One thread by default: a decision is 40-200 rows, too few to split, and with one
        # worker per core a second OpenMP thread only waits for a core: on 2 busy cores, p99
        # was 267-333 ms with all threads and 14-19 ms with one (benchmarks/README.md).
        self._threads = threads
        self._controller = ThreadpoolController() if threads is not None else None
        self.version: str = artifact.version
        self._retention: Pipeline = artifact.models[RETENTION]
        self._referrals: Pipeline = artifact.models[REFERRALS]
        # The fitted estimators are the artifact's; only the encoding step may be swapped for
        # a NumPy twin (ordinal for current artifacts, one-hot for earlier ones), and only when
        # both encoders match it exactly on a probe covering every code. The
        # ColumnTransformer's checks cost more than the trees on 40 rows (benchmarks/README.md);
        # any mismatch falls back to the full pipelines.
        # The rows are built by the definition the artifact was trained on (its card's columns):
        # an artifact of an earlier feature version scores with its own columns.
        self.features = artifact.features
        self._encode = _twin_encoding((self._retention, self._referrals), self.features)
        self.fast_path = self._encode is not None
        # On the fast path the trees are walked by `FlatForest` (one pass for both models, no
        # OpenMP): scikit-learn's one call per tree cost more than the trees (models/forest.py).
        # A calibrated retention model's step rides along as plain numbers; the other
        # paths call the step itself (its `predict_proba` is calibrated).
        flat = (
            _flat_forest(
                self._retention, self._referrals, self._encode, _probe_matrix(self.features)
            )
            if self._encode is not None
            else None
        )
        self._forest, self._calibration = flat if flat is not None else (None, None)

    @property
    def sees_word_of_mouth(self) -> bool:
        """Whether the model sees public, reach and customer status (feature version 2 on): it
        learned word of mouth from observed referrals (remedy/decisions/value.py)."""
        return self.features.sees_word_of_mouth

    @property
    def calibrated(self) -> bool:
        """Tell whether P(stay) goes through the retention model's calibration step."""
        return is_calibrated(self._retention)

    @property
    def path(self) -> str:
        """How predictions are computed: 'flat-forest', 'estimators' or 'pipelines'."""
        if self._forest is not None:
            return "flat-forest"
        return "estimators" if self.fast_path else "pipelines"

    def _predict_matrix(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return clipped P(stay) and non-negative referrals for feature rows."""
        if self._forest is not None:
            p_stay, referrals = _flat_predict(self._forest, self._calibration, self._encode(x))
            return np.clip(p_stay, P_MIN, P_MAX), np.maximum(referrals, 0.0)
        if self._controller is None:
            return self._predict_unlimited(x)
        with self._controller.limit(limits=self._threads, user_api="openmp"):
            return self._predict_unlimited(x)

    def _predict_unlimited(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return clipped P(stay) and non-negative referrals, on the current thread limits."""
        if self.fast_path and self._encode is not None:
            encoded = self._encode(x)
            p_stay = self._retention[-1].predict_proba(encoded)[:, 1]
            referrals = self._referrals[-1].predict(encoded)
        else:
            p_stay = self._retention.predict_proba(x)[:, 1]
            referrals = self._referrals.predict(x)
        return np.clip(p_stay, P_MIN, P_MAX), np.maximum(referrals, 0.0)

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals for each plan, as two float arrays."""
        if not plans:
            return np.empty(0), np.empty(0)
        return self._predict_matrix(self.features.matrix(incident, plans))

    def predict_rows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return P(stay) and expected referrals for feature rows built by `features`.

        For offline evaluation, which builds a decision's rows once for several models
        (training/logged.py `predict_positions`); `predict` builds them itself.
        """
        return self._predict_matrix(x)

    def predict_many(
        self, decisions: Sequence[tuple[Incident, Sequence[Plan]]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return `predict` for many decisions at once (one model call: offline evaluation, a
        what-if's chunk of incidents).

        Each decision's predictions are the bits `predict` gives it alone: its rows are
        predicted row by row alike, a decision of one plan too (models/forest.py sums one
        row as it sums many; tests/models/test_predict_many.py). Offline evaluation asks for
        one or two plans of most decisions: each alone was one model call, 56,000 of them per
        retraining (benchmarks/README.md, issue 25)."""
        results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(decisions)
        batched = [n for n, (_, plans) in enumerate(decisions) if plans]
        for n, (_, plans) in enumerate(decisions):
            if not plans:
                results[n] = (np.empty(0), np.empty(0))
        if batched:
            blocks = [self.features.matrix(*decisions[n]) for n in batched]
            p_stay, referrals = self._predict_matrix(np.vstack(blocks))
            bounds = np.cumsum([0] + [len(b) for b in blocks])
            for n, lo, hi in zip(batched, bounds[:-1], bounds[1:], strict=True):
                results[n] = (p_stay[lo:hi], referrals[lo:hi])
        return results  # type: ignore[return-value]

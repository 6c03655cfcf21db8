"""Model artifacts: a folder per version with `model.skops` and its `card.json`.

Only skops is used, never pickle or joblib: loading a pickle runs whatever code it names, while
skops rebuilds objects from a schema and refuses types it was not told to trust. On top of that
the loader checks the file's sha256 against the card, accepts only an explicit allow-list of
types beyond skops' own defaults, and checks the feature list (one of the definitions in
models/features.py: an artifact of an earlier feature version keeps loading and scoring with
its own) and scikit-learn version, so a
tampered, foreign or stale artifact fails at load with a `ModelLoadError` saying why.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sklearn
import skops
import skops.io as sio
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from models.features import FEATURE_NAMES, FeatureDefinition, definition_for
from models.pipeline import MODEL_NAMES

MODEL_FILE = "model.skops"
CARD_FILE = "card.json"

# Types beyond skops' default trust that a shipped artifact may contain. Each entry was read off
# `skops.io.get_untrusted_types` for the pipelines in models/pipeline.py; add one only after
# checking that its state is plain data (arrays, numbers), never callables.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        # the fitted trees of HistGradientBoosting*: node arrays and bin thresholds
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        # With `categorical_features`, HistGradientBoosting* keeps its own preprocessor, whose
        # numeric branch is FunctionTransformer(functools.partial(check_array, dtype=...,
        # ensure_all_finite=False)). skops names the partial and the function it wraps as two
        # separate types, so trusting `partial` trusts no other function: a partial of anything
        # else (os.system, say) is still refused by its function's name
        # (tests/models/test_artifact.py). check_array only validates and converts an array.
        # The OrdinalEncoders (ours and the estimator's) are in skops' default trust.
        "functools.partial",
        "sklearn.utils.validation.check_array",
        # The retention model's calibration step (models/calibration.py): CalibratedClassifierCV,
        # FrozenEstimator and IsotonicRegression are in skops' default trust. The calibrated
        # classifier they hold keeps the frozen booster, its list of calibrators, the class
        # labels and the method name; a sigmoid calibrator keeps two floats (a_, b_). Data and
        # trusted estimators, no callables.
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
    }
)


class ModelLoadError(Exception):
    """An artifact that cannot or must not be loaded."""


@dataclass(frozen=True)
class Artifact:
    """A loaded model version: the fitted pipelines and their card."""

    models: dict[str, Pipeline]
    card: dict[str, Any]
    folder: Path

    @property
    def version(self) -> str:
        """The version named on the card."""
        return str(self.card["version"])

    @property
    def features(self) -> FeatureDefinition:
        """The feature definition the models were trained on (the card's columns; the current
        one for an artifact built in memory without them)."""
        names = self.card.get("feature_names", FEATURE_NAMES)
        definition = definition_for(names)
        if definition is None:
            raise ModelLoadError(f"{self.folder}: no feature definition has columns {names}")
        return definition


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write bytes to `path` through a temporary file, so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the service runs as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_artifact(
    folder: Path | str,
    models: Mapping[str, Pipeline],
    *,
    version: str | None = None,
    created_at: datetime | None = None,
    training_window: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write `model.skops` and `card.json` into `folder`; return the card."""
    folder = Path(folder)
    if set(models) != set(MODEL_NAMES):
        raise ValueError(f"an artifact holds exactly {MODEL_NAMES}, got {sorted(models)}")
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    # skops names its array files after object ids, so two fits of the same model differ in
    # bytes (and checksum) while predicting identically.
    data = sio.dumps(dict(models), compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    _write_atomically(model_path, data)
    card: dict[str, Any] = {
        "version": version or folder.name,
        "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "feature_names": list(FEATURE_NAMES),
        "models": {name: type(models[name][-1]).__name__ for name in MODEL_NAMES},
        "training_window": dict(training_window or {}),
        "metrics": dict(metrics or {}),
        "model_sha256": sha256_file(model_path),
        "model_bytes": model_path.stat().st_size,
        **dict(extra or {}),
    }
    text = json.dumps(card, indent=2, sort_keys=False, default=str) + "\n"
    _write_atomically(folder / CARD_FILE, text.encode())
    return card


def _read_card(folder: Path) -> dict[str, Any]:
    """Read and minimally validate the card."""
    try:
        card = json.loads((folder / CARD_FILE).read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"{folder}: no {CARD_FILE}") from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{folder}: unreadable {CARD_FILE}: {exc}") from None
    if not isinstance(card, dict):
        raise ModelLoadError(f"{folder}: {CARD_FILE} is not a JSON object")
    missing = {"version", "sklearn_version", "feature_names", "model_sha256"} - set(card)
    if missing:
        raise ModelLoadError(f"{folder}: {CARD_FILE} lacks {sorted(missing)}")
    return card


def _minor(version: str) -> tuple[str, ...]:
    """Return the major and minor parts of a version string."""
    return tuple(version.split(".")[:2])


def load_artifact(folder: Path | str) -> Artifact:
    """Load a verified artifact, or raise `ModelLoadError` naming what is wrong with it."""
    folder = Path(folder)
    card = _read_card(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ModelLoadError(f"{folder}: no {MODEL_FILE}")
    actual = sha256_file(model_path)
    if actual != card["model_sha256"]:
        raise ModelLoadError(
            f"{model_path}: sha256 {actual} does not match the card's {card['model_sha256']}"
        )
    definition = definition_for(card["feature_names"])
    if definition is None:
        raise ModelLoadError(
            f"{folder}: trained on other features than models.features defines; retrain it"
        )
    if _minor(card["sklearn_version"]) != _minor(sklearn.__version__):
        raise ModelLoadError(
            f"{folder}: built with scikit-learn {card['sklearn_version']}, "
            f"running {sklearn.__version__}; retrain it for this version"
        )
    try:
        untrusted = sio.get_untrusted_types(file=model_path)
    except Exception as exc:  # a corrupt zip or schema must not crash the caller differently
        raise ModelLoadError(f"{model_path}: not a readable skops file: {exc}") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise ModelLoadError(f"{model_path}: refusing untrusted types {refused}")
    try:
        with warnings.catch_warnings():
            # Same major.minor was checked above; a patch release only differs in bug fixes.
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            models = sio.load(model_path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelLoadError(f"{model_path}: cannot load: {exc}") from None
    if not isinstance(models, dict) or set(models) != set(MODEL_NAMES):
        raise ModelLoadError(f"{model_path}: expected a dict of {MODEL_NAMES}")
    for name, model in models.items():
        if not isinstance(model, Pipeline):
            raise ModelLoadError(
                f"{model_path}: {name} is a {type(model).__name__}, not a Pipeline"
            )
        if getattr(model, "n_features_in_", None) != len(definition.names):
            raise ModelLoadError(f"{model_path}: {name} expects another number of features")
    return Artifact(models=models, card=card, folder=folder)

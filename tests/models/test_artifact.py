"""Saving and loading model artifacts with skops, and refusing bad ones."""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import sklearn
import skops
import skops.io as sio
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

from models.artifact import (
    ALLOWED_TYPES,
    CARD_FILE,
    MODEL_FILE,
    ModelLoadError,
    load_artifact,
    save_artifact,
    sha256_file,
)
from models.features import CATEGORICAL_COLUMNS, FEATURE_NAMES, feature_matrix
from tests.factories import make_incident
from training.candidates import candidate_plans


def _copy(artifact_dir: Path, tmp_path: Path) -> Path:
    """Return a private copy of the shared artifact folder to tamper with."""
    return Path(shutil.copytree(artifact_dir, tmp_path / artifact_dir.name))


def _edit_card(folder: Path, **changes: object) -> None:
    """Rewrite fields of the card."""
    card = json.loads((folder / CARD_FILE).read_text())
    card.update(changes)
    (folder / CARD_FILE).write_text(json.dumps(card))


def test_round_trip_predicts_the_same(artifact_dir, trained_models):
    """A saved and loaded artifact predicts exactly as the fitted pipelines did."""
    loaded = load_artifact(artifact_dir)
    incident = make_incident()
    x = feature_matrix(incident, candidate_plans(incident))
    for name, model in trained_models.items():
        if hasattr(model, "predict_proba"):
            np.testing.assert_array_equal(
                loaded.models[name].predict_proba(x), model.predict_proba(x)
            )
        else:
            np.testing.assert_array_equal(loaded.models[name].predict(x), model.predict(x))


def test_native_categorical_pipelines_round_trip(artifact_dir, trained_models):
    """The ordinal encoder and categorical trees survive skops, on unknown codes too.

    Its untrusted types are exactly the allow-listed ones the estimator's own preprocessor
    brings (functools.partial over check_array) and the trees.
    """
    untrusted = set(sio.get_untrusted_types(file=artifact_dir / MODEL_FILE))
    assert untrusted == {
        "functools.partial",
        "sklearn.utils.validation.check_array",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
    assert untrusted <= ALLOWED_TYPES
    loaded = load_artifact(artifact_dir)
    for name, model in loaded.models.items():
        assert isinstance(
            model.named_steps["encode"].named_transformers_["categorical"], OrdinalEncoder
        )
        n_codes = len(CATEGORICAL_COLUMNS)
        assert model[-1].is_categorical_.tolist() == [True] * n_codes + [False] * (
            len(FEATURE_NAMES) - n_codes
        ), name
    incident = make_incident(category="martian", channel="pigeon")
    x = feature_matrix(incident, candidate_plans(incident))
    assert np.isnan(loaded.models["retention"][:-1].transform(x)[:, 1:3]).all()
    np.testing.assert_array_equal(
        loaded.models["retention"].predict_proba(x), trained_models["retention"].predict_proba(x)
    )
    np.testing.assert_array_equal(
        loaded.models["referrals"].predict(x), trained_models["referrals"].predict(x)
    )


def test_allowed_partial_does_not_trust_the_function_it_wraps(tmp_path):
    """functools.partial is allowed for check_array only: a partial of os.system is refused."""
    folder = tmp_path / "evil-partial"
    folder.mkdir()
    transformer = FunctionTransformer(func=functools.partial(os.system, "true"))
    sio.dump({"retention": transformer}, folder / MODEL_FILE)
    _write_card(folder, "evil-partial")
    with pytest.raises(ModelLoadError, match=r"untrusted types \[.*system") as refused:
        load_artifact(folder)
    assert "functools.partial" not in str(refused.value)


def _write_card(folder: Path, version: str) -> None:
    """Write a card that passes every check but the model's types."""
    (folder / CARD_FILE).write_text(
        json.dumps(
            {
                "version": version,
                "sklearn_version": sklearn.__version__,
                "feature_names": list(FEATURE_NAMES),
                "model_sha256": sha256_file(folder / MODEL_FILE),
            }
        )
    )


def test_card_describes_the_model(artifact_dir):
    """The card names the version, library versions, features, window and checksum."""
    card = json.loads((artifact_dir / CARD_FILE).read_text())
    assert card["version"] == artifact_dir.name
    assert card["sklearn_version"] == sklearn.__version__
    assert card["skops_version"] == skops.__version__
    assert card["feature_names"] == list(FEATURE_NAMES)
    assert card["training_window"]["rows"] > 0
    assert card["model_sha256"] == sha256_file(artifact_dir / MODEL_FILE)
    assert load_artifact(artifact_dir).version == card["version"]


def test_checksum_mismatch_is_refused(artifact_dir, tmp_path):
    """A model file that is not the one the card describes does not load."""
    folder = _copy(artifact_dir, tmp_path)
    with open(folder / MODEL_FILE, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256"):
        load_artifact(folder)


def test_untrusted_type_is_refused_before_loading(tmp_path):
    """A file that names a function like os.system is refused, and nothing is constructed."""
    folder = tmp_path / "evil"
    folder.mkdir()
    sio.dump({"retention": FunctionTransformer(func=os.system)}, folder / MODEL_FILE)
    (folder / CARD_FILE).write_text(
        json.dumps(
            {
                "version": "evil",
                "sklearn_version": sklearn.__version__,
                "feature_names": list(FEATURE_NAMES),
                "model_sha256": sha256_file(folder / MODEL_FILE),
            }
        )
    )
    with pytest.raises(ModelLoadError, match=r"untrusted types \[.*system"):
        load_artifact(folder)


def test_other_features_are_refused(artifact_dir, tmp_path):
    """A model trained on another feature list does not load."""
    folder = _copy(artifact_dir, tmp_path)
    _edit_card(folder, feature_names=[*FEATURE_NAMES, "new_feature"])
    with pytest.raises(ModelLoadError, match="other features"):
        load_artifact(folder)


def test_other_sklearn_minor_version_is_refused(artifact_dir, tmp_path):
    """A model built with another scikit-learn minor version does not load."""
    folder = _copy(artifact_dir, tmp_path)
    _edit_card(folder, sklearn_version="0.99.0")
    with pytest.raises(ModelLoadError, match="scikit-learn 0.99.0"):
        load_artifact(folder)


def test_missing_or_broken_files_are_refused(artifact_dir, tmp_path):
    """No card, a broken card, or no model file each give a ModelLoadError."""
    folder = _copy(artifact_dir, tmp_path)
    (folder / CARD_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="unreadable"):
        load_artifact(folder)
    (folder / CARD_FILE).unlink()
    with pytest.raises(ModelLoadError, match="no card.json"):
        load_artifact(folder)
    other = _copy(artifact_dir, tmp_path / "other")
    (other / MODEL_FILE).unlink()
    with pytest.raises(ModelLoadError, match="no model.skops"):
        load_artifact(other)


def test_save_requires_both_models(trained_models, tmp_path):
    """An artifact holds the retention and the referral pipeline, nothing else."""
    with pytest.raises(ValueError, match="exactly"):
        save_artifact(tmp_path / "half", {"retention": trained_models["retention"]})

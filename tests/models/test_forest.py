"""The flat forest predicts what the fitted scikit-learn estimators predict."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from models.forest import FlatForest, NotFlattenable


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a few missing values, a binary target and a count target (seeded)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # exercises missing_go_to_left
    signal = np.nan_to_num(x[:, 0]) - 0.5 * np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2])
    retained = (signal + rng.normal(scale=0.5, size=len(x)) > 0).astype(int)
    referrals = rng.poisson(np.exp(0.3 * np.nan_to_num(x[:, 3])))
    return x, retained, referrals


@pytest.fixture(scope="module")
def estimators(data):
    """A classifier and a Poisson regressor, small and deep enough to have uneven trees."""
    x, retained, referrals = data
    settings = {"max_iter": 40, "max_leaf_nodes": 15, "min_samples_leaf": 20, "random_state": 0}
    classifier = HistGradientBoostingClassifier(**settings).fit(x, retained)
    regressor = HistGradientBoostingRegressor(loss="poisson", **settings).fit(x, referrals)
    return classifier, regressor


def test_matches_the_estimators_on_unseen_rows_with_missing_values(data, estimators):
    """P(class 1) and the expected count agree with predict_proba and predict to 1e-12."""
    classifier, regressor = estimators
    rng = np.random.default_rng(11)
    x = rng.normal(scale=1.5, size=(500, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    p, counts = FlatForest([classifier, regressor]).predict(x)
    np.testing.assert_allclose(p, classifier.predict_proba(x)[:, 1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(counts, regressor.predict(x), rtol=1e-12, atol=0)


def test_raw_predictions_are_the_estimators_raw_predictions(data, estimators):
    """Baseline plus the leaves: the same raw score scikit-learn sums tree by tree."""
    classifier, regressor = estimators
    x = data[0][:300]
    raw_p, raw_count = FlatForest([classifier, regressor]).raw_predict(x)
    np.testing.assert_allclose(raw_p, classifier._raw_predict(x)[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(raw_count, regressor._raw_predict(x)[:, 0], rtol=1e-12, atol=1e-12)


def test_one_row_and_no_rows(estimators):
    """A single row works; no rows give empty predictions."""
    classifier, _ = estimators
    forest = FlatForest([classifier])
    row = np.array([[0.1, -0.2, 0.3, 0.0, 1.0, 2.0]])
    np.testing.assert_allclose(forest.predict(row)[0], classifier.predict_proba(row)[:, 1])
    assert forest.predict(np.empty((0, 6)))[0].shape == (0,)


def test_categorical_splits_and_multiclass_are_refused(data):
    """What the layout does not implement is refused, so callers keep scikit-learn's path."""
    x, retained, _ = data
    codes = np.column_stack([np.random.default_rng(0).integers(0, 4, len(x)), x[:, 1]])
    categorical = HistGradientBoostingClassifier(
        max_iter=5, categorical_features=[0], random_state=0
    ).fit(codes, retained)
    with pytest.raises(NotFlattenable, match="categorical"):
        FlatForest([categorical])
    three = np.digitize(np.nan_to_num(x[:, 0]), [-0.5, 0.5])
    multiclass = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(x, three)
    with pytest.raises(NotFlattenable, match="multi-class"):
        FlatForest([multiclass])

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


def test_a_row_alone_is_the_same_bits_as_in_a_batch(data, estimators):
    """Trees are summed in one order whatever the batch size, one row too (not pairwise)."""
    forest = FlatForest(list(estimators))
    x = data[0][:50]
    together = forest.raw_predict(x)
    for i in range(len(x)):
        alone = forest.raw_predict(x[i : i + 1])
        for batch, single in zip(together, alone, strict=True):
            assert single.shape == (1,)
            assert single.tobytes() == batch[i : i + 1].tobytes()


@pytest.fixture(scope="module")
def categorical_estimators():
    """A classifier and a Poisson regressor splitting two code columns as categories.

    The first code column takes the values 0, 1, 3, 4 and 6 in training (2 and 5 never seen:
    the estimator's own encoder renumbers the seen ones 0-4), the second 0-9 with some NaN; a
    numeric column interacts with both.
    """
    rng = np.random.default_rng(5)
    n = 4000
    sparse = rng.choice([0.0, 1.0, 3.0, 4.0, 6.0], size=n)
    dense = rng.integers(0, 10, n).astype(float)
    dense[rng.random(n) < 0.05] = np.nan
    number = rng.normal(size=n)
    x = np.column_stack([number, sparse, dense, rng.normal(size=n)])
    effect = np.array([0.8, -0.6, 0.0, 0.4, 1.0, 0.0, -1.2])[sparse.astype(int)]
    dense_effect = np.where(np.isnan(dense), 0.5, np.sin(np.nan_to_num(dense)))
    signal = effect + dense_effect + 0.7 * number
    retained = (signal + rng.normal(scale=0.7, size=n) > 0).astype(int)
    referrals = rng.poisson(np.exp(0.4 * signal))
    settings = {
        "max_iter": 30,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "categorical_features": [1, 2],
        "random_state": 0,
    }
    classifier = HistGradientBoostingClassifier(**settings).fit(x, retained)
    regressor = HistGradientBoostingRegressor(loss="poisson", **settings).fit(x, referrals)
    return classifier, regressor


def _awkward_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Return rows whose code columns hold seen, unseen, negative, NaN and too-large values."""
    codes = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 255, 256, 1e6, -1, -0.0, -3, np.nan])
    x = np.column_stack(
        [
            rng.normal(scale=1.5, size=n),
            rng.choice(codes, size=n),
            rng.choice(codes, size=n),
            rng.normal(size=n),
        ]
    )
    x[rng.random(n) < 0.05, 0] = np.nan
    return x


def test_categorical_splits_match_the_estimators(categorical_estimators):
    """Categorical trees agree with predict_proba and predict to 1e-12 on awkward codes.

    Unseen codes (2, 5 in the first column), codes above any seen (7 to 1e6), negative
    codes and NaN all take the node's missing direction, as scikit-learn sends them.
    """
    classifier, regressor = categorical_estimators
    assert any(p[0].nodes["is_categorical"].any() for p in classifier._predictors)
    assert any(p[0].nodes["is_categorical"].any() for p in regressor._predictors)
    x = _awkward_codes(np.random.default_rng(12), 3000)
    forest = FlatForest([classifier, regressor])
    p, counts = forest.predict(x)
    np.testing.assert_allclose(p, classifier.predict_proba(x)[:, 1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(counts, regressor.predict(x), rtol=1e-12, atol=0)
    raw_p, _ = forest.raw_predict(x)
    np.testing.assert_allclose(raw_p, classifier._raw_predict(x)[:, 0], rtol=1e-12, atol=1e-12)


def test_each_awkward_code_alone_matches(categorical_estimators):
    """Every special code in each categorical column, the rest of the row fixed, agrees."""
    classifier, regressor = categorical_estimators
    special = np.array([0, 1, 2, 5, 6, 7, 9, 10, 300, -1, -0.0, np.nan, 2.5])
    forest = FlatForest([classifier, regressor])
    for column in (1, 2):
        x = np.tile([[0.3, 1.0, 4.0, -0.2]], (len(special), 1))
        x[:, column] = special
        p, counts = forest.predict(x)
        np.testing.assert_allclose(p, classifier.predict_proba(x)[:, 1], rtol=1e-12, atol=0)
        np.testing.assert_allclose(counts, regressor.predict(x), rtol=1e-12, atol=0)


def test_categorical_and_numeric_estimators_share_a_forest(
    data, estimators, categorical_estimators
):
    """A forest mixing an estimator with categorical splits and one without predicts both."""
    numeric, _ = estimators
    classifier, _ = categorical_estimators
    rng = np.random.default_rng(4)
    x = np.hstack([_awkward_codes(rng, 400), rng.normal(size=(400, 2))])
    # one matrix for both: the categorical classifier reads its four columns, the other six
    p_numeric, p_categorical = FlatForest([numeric, classifier]).predict(x)
    np.testing.assert_allclose(p_numeric, numeric.predict_proba(x)[:, 1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        p_categorical, classifier.predict_proba(x[:, :4])[:, 1], rtol=1e-12, atol=0
    )


def test_numeric_forest_has_no_indicator_columns(estimators):
    """Trees without categorical splits walk the rows as given, with nothing added."""
    forest = FlatForest(list(estimators))
    assert len(forest._indicator_source) == 0
    x = np.ones((3, 6))
    assert forest._with_indicators(x) is x


def test_multiclass_and_odd_categories_are_refused(data):
    """What the layout does not implement is refused, so callers keep scikit-learn's path."""
    x, retained, _ = data
    three = np.digitize(np.nan_to_num(x[:, 0]), [-0.5, 0.5])
    multiclass = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(x, three)
    with pytest.raises(NotFlattenable, match="multi-class"):
        FlatForest([multiclass])
    rng = np.random.default_rng(0)
    fractional = np.column_stack([rng.choice([0.5, 1.0, 2.0], len(x)), x[:, 1]])
    odd = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0], random_state=0).fit(
        fractional, retained
    )
    with pytest.raises(NotFlattenable, match="categories must be integers"):
        FlatForest([odd])

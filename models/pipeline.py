"""The two shipped pipelines: one-hot encoding of the categorical codes, then gradient boosting.

Both take the float matrix of `models.features`; the encoding lives inside the pipeline, so the
artifact carries it and training and serving cannot drift (STYLE.md).
"""

from __future__ import annotations

from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from models.features import CATEGORICAL_COLUMNS, categories

RETENTION = "retention"  # classifier: P(stay)
REFERRALS = "referrals"  # Poisson regressor: E[referrals]
MODEL_NAMES = (RETENTION, REFERRALS)

# Fixed boosting settings: early stopping would carve a random validation set out of the
# time-ordered training window, and a fixed number of rounds keeps the bundle reproducible.
# Small, regularised trees: on 32k simulated decisions they beat 250 rounds of 31-leaf trees on
# holdout log loss and on simulated policy value, and they predict faster (fewer, smaller trees).
BOOSTING = {
    "max_iter": 120,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 100,
    "l2_regularization": 1.0,
    "early_stopping": False,
}


def encoder() -> ColumnTransformer:
    """Return the encoder: one-hot on the categorical codes, numeric columns passed through."""
    one_hot = OneHotEncoder(
        categories=categories(), handle_unknown="ignore", sparse_output=False, dtype=float
    )
    return ColumnTransformer(
        [("categorical", one_hot, list(CATEGORICAL_COLUMNS))],
        remainder="passthrough",
        sparse_threshold=0.0,
    )


def retention_pipeline(seed: int = 0, **params: object) -> Pipeline:
    """Return an unfitted pipeline predicting P(stay)."""
    model = HistGradientBoostingClassifier(**{**BOOSTING, **params}, random_state=seed)
    return Pipeline([("encode", encoder()), ("model", model)])


def referrals_pipeline(seed: int = 0, **params: object) -> Pipeline:
    """Return an unfitted pipeline predicting expected referrals (a count: Poisson loss)."""
    model = HistGradientBoostingRegressor(
        **{**BOOSTING, **params}, loss="poisson", random_state=seed
    )
    return Pipeline([("encode", encoder()), ("model", model)])

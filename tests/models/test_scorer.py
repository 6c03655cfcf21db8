"""The trained model behind the PlanScorer protocol."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline

from models.artifact import Artifact, load_artifact, save_artifact
from models.features import (
    CATEGORICAL_COLUMNS,
    CURRENT,
    V1,
    FeatureDefinition,
    categories,
    feature_matrix,
)
from models.pipeline import BOOSTING, retention_pipeline
from models.scorer import P_MAX, P_MIN, ModelScorer
from remedy.decisions.ranker import PlanRanker, PlanScorer
from remedy.services.model_registry import BUNDLED, bundled_folders, version_order
from tests.factories import make_incident, one_hot_encoder
from training.candidates import candidate_plans


def test_scorer_follows_the_protocol(artifact_dir):
    """The scorer has the card's version and returns two float arrays, one value per plan."""
    scorer: PlanScorer = ModelScorer(load_artifact(artifact_dir))
    assert scorer.version == artifact_dir.name
    incident = make_incident()
    plans = candidate_plans(incident)
    p_stay, referrals = scorer.predict(incident, plans)
    assert p_stay.shape == referrals.shape == (len(plans),)
    assert p_stay.dtype == referrals.dtype == np.float64
    assert ((p_stay >= P_MIN) & (p_stay <= P_MAX)).all()
    assert (referrals >= 0).all()


def test_no_plans_give_empty_arrays(in_memory_artifact):
    """Scoring no plans returns empty arrays rather than calling the model."""
    p_stay, referrals = ModelScorer(in_memory_artifact).predict(make_incident(), [])
    assert p_stay.shape == referrals.shape == (0,)


def test_fast_path_equals_the_pipelines(in_memory_artifact):
    """Serving through the NumPy encoder twin and the flat forest gives what each pipeline gives.

    Equal up to the order of summing the trees' leaves (float64 rounding, ~1e-16).
    """
    scorer = ModelScorer(in_memory_artifact)
    assert scorer.fast_path
    assert scorer.path == "flat-forest"
    incident = make_incident(category="outage", severity=5, churn_threat=True)
    plans = candidate_plans(incident)
    p_stay, referrals = scorer.predict(incident, plans)
    models = in_memory_artifact.models
    x = feature_matrix(incident, plans)
    expected_p = np.clip(models["retention"].predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_allclose(p_stay, expected_p, rtol=1e-12, atol=0)
    expected_r = np.maximum(models["referrals"].predict(x), 0)
    np.testing.assert_allclose(referrals, expected_r, rtol=1e-12, atol=0)
    assert (np.argsort(-p_stay, kind="stable") == np.argsort(-expected_p, kind="stable")).all()


def test_an_encoder_that_differs_falls_back_to_the_pipeline(logged_rows, trained_models, tmp_path):
    """A pipeline whose encoder no NumPy twin matches is served as a whole."""
    widened = retention_pipeline(max_iter=5)
    # one more code per column than the vocabularies: the probe's code 4 now means something
    widened.set_params(
        encode__categorical__categories=[np.append(c, float(len(c))) for c in categories()]
    )
    widened.fit(logged_rows.features[:2000], logged_rows.retained[:2000])
    models = {"retention": widened, "referrals": trained_models["referrals"]}
    scorer = ModelScorer(Artifact(models, {"version": "odd"}, tmp_path))
    assert not scorer.fast_path
    assert scorer.path == "pipelines"
    incident = make_incident()
    plans = candidate_plans(incident)
    expected = np.clip(widened.predict_proba(feature_matrix(incident, plans))[:, 1], P_MIN, P_MAX)
    np.testing.assert_array_equal(scorer.predict(incident, plans)[0], expected)


def test_pipelines_with_different_encoders_fall_back(logged_rows, trained_models, tmp_path):
    """A one-hot retention pipeline next to an ordinal referral pipeline has no single twin."""
    one_hot_model = _one_hot_pipeline(max_iter=5)
    one_hot_model.fit(logged_rows.features[:2000], logged_rows.retained[:2000])
    models = {"retention": one_hot_model, "referrals": trained_models["referrals"]}
    assert ModelScorer(Artifact(models, {"version": "mixed"}, tmp_path)).path == "pipelines"


def _one_hot_pipeline(**params: object) -> Pipeline:
    """Return the retention pipeline as it was before native categories (artifact sim-1)."""
    model = HistGradientBoostingClassifier(**{**BOOSTING, **params}, random_state=0)
    return Pipeline([("encode", one_hot_encoder()), ("model", model)])


def _awkward_rows(incident_count: int = 30, features: FeatureDefinition = CURRENT) -> np.ndarray:
    """Return feature rows of many incidents, some with unknown or out-of-vocabulary codes."""
    rng = np.random.default_rng(8)
    blocks = []
    for k in range(incident_count):
        incident = make_incident(
            category=("outage", "delivery", "billing", "martian")[k % 4],
            channel=("email", "carrier-pigeon")[k % 2],
            severity=1 + k % 5,
            churn_threat=bool(k % 3),
        )
        blocks.append(features.matrix(incident, candidate_plans(incident)))
    x = np.vstack(blocks)
    odd = rng.random(len(x)) < 0.1
    x[odd, features.categorical_columns[0]] = 7.0  # past the vocabulary: unknown as well
    return x


def test_ordinal_artifact_serves_through_the_flat_forest(in_memory_artifact):
    """Current artifacts: the NumPy ordinal twin and the categorical flat forest, exact.

    Unknown categories (-1) and codes past a vocabulary are NaN after the encoder and go
    where each categorical node sends missing values, in both paths.
    """
    scorer = ModelScorer(in_memory_artifact)
    assert scorer.path == "flat-forest"
    x = _awkward_rows()
    assert (x[:, list(CATEGORICAL_COLUMNS)] == -1).any()
    p_stay, referrals = scorer._predict_matrix(x)
    models = in_memory_artifact.models
    expected_p = np.clip(models["retention"].predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_allclose(p_stay, expected_p, rtol=1e-12, atol=0)
    expected_r = np.maximum(models["referrals"].predict(x), 0)
    np.testing.assert_allclose(referrals, expected_r, rtol=1e-12, atol=0)


def test_one_hot_artifact_still_serves_through_the_flat_forest(logged_rows, tmp_path):
    """An artifact of the former one-hot pipelines keeps its fast path and its predictions."""
    features, retained = logged_rows.features[:3000], logged_rows.retained[:3000]
    retention = _one_hot_pipeline(max_iter=20).fit(features, retained)
    referrals = _one_hot_pipeline(max_iter=20)
    referrals.set_params(model=HistGradientBoostingRegressor(loss="poisson", max_iter=20))
    referrals.fit(features, logged_rows.referrals[:3000])
    folder = tmp_path / "one-hot-1"
    save_artifact(folder, {"retention": retention, "referrals": referrals})
    scorer = ModelScorer(load_artifact(folder))
    assert scorer.path == "flat-forest"
    x = _awkward_rows()
    p_stay, counts = scorer._predict_matrix(x)
    expected_p = np.clip(retention.predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_allclose(p_stay, expected_p, rtol=1e-12, atol=0)
    np.testing.assert_allclose(counts, np.maximum(referrals.predict(x), 0), rtol=1e-12, atol=0)


def test_bundled_sim_1_keeps_scoring_through_the_one_hot_twin():
    """The first bundled model (one-hot, still registered in existing databases) serves fast."""
    folder = BUNDLED / "sim-1"
    scorer = ModelScorer(load_artifact(folder))
    assert scorer.path == "flat-forest"
    assert scorer.features is V1 and scorer._encode == V1.one_hot
    x = _awkward_rows(8, V1)
    models = scorer.artifact.models
    expected_p = np.clip(models["retention"].predict_proba(x)[:, 1], P_MIN, P_MAX)
    np.testing.assert_allclose(scorer._predict_matrix(x)[0], expected_p, rtol=1e-12, atol=0)


def test_thread_limit_is_optional(in_memory_artifact):
    """Without a thread cap the scorer predicts the same."""
    incident = make_incident()
    plans = candidate_plans(incident)
    capped = ModelScorer(in_memory_artifact).predict(incident, plans)
    free = ModelScorer(in_memory_artifact, threads=None).predict(incident, plans)
    np.testing.assert_array_equal(capped[0], free[0])


def test_predict_many_equals_predict(in_memory_artifact):
    """Batching decisions for offline evaluation changes nothing."""
    scorer = ModelScorer(in_memory_artifact)
    decisions = [
        (make_incident(severity=s, customer_id=f"c{s}"), candidate_plans(make_incident(severity=s)))
        for s in (1, 3, 5)
    ]
    for (incident, plans), (p, r) in zip(decisions, scorer.predict_many(decisions), strict=True):
        p1, r1 = scorer.predict(incident, plans)
        np.testing.assert_allclose(p, p1)
        np.testing.assert_allclose(r, r1)
    assert scorer.predict_many([]) == []


def test_ranker_ranks_with_the_model(in_memory_artifact):
    """PlanRanker takes the model as its scorer and returns Decimal net values."""
    incident = make_incident(customer_value=Decimal("5000.00"))
    plans = candidate_plans(incident)
    ranked = PlanRanker(ModelScorer(in_memory_artifact)).rank(incident, plans)
    assert len(ranked) == len(plans)
    values = [s.expected_net_value for s in ranked]
    assert values == sorted(values, reverse=True)
    assert all(isinstance(v, Decimal) for v in values)


def test_version_comes_from_the_card(trained_models, tmp_path):
    """The scorer's version is the card's, whatever the folder is called."""
    scorer = ModelScorer(Artifact(trained_models, {"version": "v-42"}, tmp_path))
    assert scorer.version == "v-42"


def test_bundled_versions_sort_by_number_not_text():
    """The newest bundled model is the highest number: sim-10 comes after sim-2."""
    names = ["sim-10", "sim-2", "sim-1", "sim-2b"]
    assert sorted(names, key=version_order) == ["sim-1", "sim-2", "sim-2b", "sim-10"]
    assert [p.name for p in bundled_folders()][-1] == "sim-4"

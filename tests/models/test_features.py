"""The feature definition shared by training and serving."""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from catalog.vocabulary import default_vocabulary
from models.features import (
    CATEGORICAL_COLUMNS,
    CATEGORIES,
    CURRENT,
    DEFINITIONS,
    FEATURE_NAMES,
    FEATURE_VERSION,
    NUMERIC_COLUMNS,
    UNKNOWN_CODE,
    V1,
    VOCABULARIES,
    FeatureDefinition,
    feature_matrix,
    feature_rows,
    one_hot,
    ordinal,
    row_to_bytes,
    rows_from_bytes,
)
from models.pipeline import encoder
from remedy.domain import CHANNELS, CUSTOMER_STATUSES, FaultType, Kind
from tests.factories import action, make_incident, one_hot_encoder, plan
from training.candidates import candidate_plans

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def test_columns_are_partitioned_into_categorical_and_numeric():
    """Every column is either categorical or numeric, never both."""
    assert sorted(CATEGORICAL_COLUMNS + NUMERIC_COLUMNS) == list(range(len(FEATURE_NAMES)))
    assert not set(CATEGORICAL_COLUMNS) & set(NUMERIC_COLUMNS)


def test_matrix_has_one_row_per_plan_and_repeats_the_incident():
    """Incident columns repeat across plans; plan columns differ."""
    incident = make_incident()
    plans = candidate_plans(incident)
    x = feature_matrix(incident, plans)
    assert x.shape == (len(plans), len(FEATURE_NAMES))
    assert x.dtype == np.float64
    assert np.isfinite(x).all()
    for name in ("severity", "fault_type", "churn_threat", "category", "channel"):
        assert np.unique(x[:, COLUMN[name]]).size == 1
    assert np.unique(x[:, COLUMN["total_value_ratio"]]).size > 5


def test_training_rows_equal_serving_rows():
    """feature_rows (training) gives exactly the rows feature_matrix (serving) gives."""
    incident = make_incident(category="product_defect", churn_threat=True)
    plans = candidate_plans(incident)
    serving = feature_matrix(incident, plans)
    training = feature_rows((incident, p) for p in plans)
    np.testing.assert_array_equal(serving, training)


def test_plan_features_read_the_actions():
    """Ratios are to the loss; kinds, levels and audiences land in their columns."""
    incident = make_incident(loss_amount=Decimal("80.00"), customer_value=Decimal("800.00"))
    p = plan(
        action("apology", Kind.APOLOGY),
        action("replacement", Kind.REPLACEMENT, "80.00", "48.00"),
        action("gift_2x", Kind.GIFT, "160.00", "64.00"),
        action("gift_companions", Kind.GIFT, "80.00", "32.00", audience="companions"),
        action("contact_manager", Kind.PERSONAL_CONTACT, cost="20.00", level="manager"),
    )
    row = dict(zip(FEATURE_NAMES, feature_matrix(incident, [p])[0], strict=True))
    assert row["log_value_ratio"] == np.log(10.0)
    assert row["fix_value_ratio"] == 1.0
    assert row["gift_value_ratio"] == 2.0  # the companions' gift is not the customer's
    assert row["total_value_ratio"] == 4.0
    assert row["cost_ratio"] == (48 + 64 + 32 + 20) / 80
    assert row["has_apology"] == 1.0
    assert row["contact_rank"] == 2.0
    assert row["companion_gift"] == 1.0
    assert (row["has_upgrade"], row["has_expedite"]) == (0.0, 0.0)
    assert row["n_actions"] == 5.0


def test_features_do_not_depend_on_the_currency():
    """The same incident in EUR and in JPY (x150) gives the same features."""
    p_eur = plan(
        action("refund_full", Kind.REFUND, "100.00", "100.00"),
        action("gift_1x", Kind.GIFT, "100.00", "40.00"),
    )
    p_jpy = plan(
        action("refund_full", Kind.REFUND, "15000", "15000"),
        action("gift_1x", Kind.GIFT, "15000", "6000"),
        currency="JPY",
    )
    eur = feature_matrix(make_incident(loss_amount="100.00", customer_value="1000.00"), [p_eur])
    jpy = feature_matrix(
        make_incident(currency="JPY", loss_amount=Decimal(15000), customer_value=Decimal(150000)),
        [p_jpy],
    )
    np.testing.assert_allclose(eur, jpy)


def test_unknown_categories_encode_to_missing_without_warnings():
    """An unseen category becomes the unknown code, and the encoder maps it to NaN."""
    known = feature_matrix(make_incident(), [plan()])
    unknown = feature_matrix(make_incident(category="returns", channel="fax"), [plan()])
    assert unknown[0, COLUMN["category"]] == UNKNOWN_CODE
    assert unknown[0, COLUMN["channel"]] == UNKNOWN_CODE
    encode = encoder().fit(known)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoded = encode.transform(unknown)
    # the categorical columns come first, in CATEGORICAL_COLUMNS order, codes unchanged
    n_codes = len(CATEGORICAL_COLUMNS)
    np.testing.assert_array_equal(
        encode.transform(known)[0, :n_codes], known[0, CATEGORICAL_COLUMNS]
    )
    category, channel = (CATEGORICAL_COLUMNS.index(COLUMN[n]) for n in ("category", "channel"))
    assert np.isnan(encoded[0, [category, channel]]).all()
    assert not np.isnan(np.delete(encoded[0], [category, channel])).any()
    np.testing.assert_array_equal(encoded[0, n_codes:], unknown[0, NUMERIC_COLUMNS])


def _mixed_rows() -> np.ndarray:
    """Return feature rows over known and unknown categories, channels and fault types."""
    incidents = [
        make_incident(category=c, channel=ch, fault_type=f)
        for c in ("delivery", "billing", "outage", "unheard-of")
        for ch in ("email", "social", "pigeon")
        for f in FaultType
    ]
    return np.vstack([feature_matrix(i, candidate_plans(i)[::40]) for i in incidents])


def test_ordinal_twin_matches_the_pipeline_encoder():
    """The NumPy encoding used for serving equals the fitted ColumnTransformer's output."""
    x = _mixed_rows()
    # codes past each vocabulary and fractional ones are unknown too
    x[::7, CATEGORICAL_COLUMNS[0]] = 4.0
    x[::11, CATEGORICAL_COLUMNS[1]] = 2.5
    encoded = encoder().fit(x[:10]).transform(x)
    assert np.isnan(encoded).any()
    np.testing.assert_array_equal(ordinal(x), encoded)


def test_one_hot_twin_matches_the_former_encoder():
    """The one-hot twin, kept for sim-1, equals the one-hot ColumnTransformer's output."""
    x = _mixed_rows()
    np.testing.assert_array_equal(one_hot(x), one_hot_encoder().fit(x[:10]).transform(x))


def test_zero_loss_and_no_plans_stay_finite():
    """A loss of zero does not divide by zero; no plans give an empty matrix."""
    incident = make_incident(loss_amount=Decimal("0.00"), fault_type=FaultType.CUSTOMER)
    x = feature_matrix(incident, candidate_plans(incident))
    assert np.isfinite(x).all()
    assert feature_matrix(incident, []).shape == (0, len(FEATURE_NAMES))
    assert feature_rows([]).shape == (0, len(FEATURE_NAMES))


def _probe_rows(features: FeatureDefinition = CURRENT) -> np.ndarray:
    """Feature rows of fixed incidents and every candidate plan (the definition's fingerprint)."""
    rows = []
    for severity, fault, category, channel, extra in (
        (1, FaultType.COMPANY, "delivery", "email", {}),
        (3, FaultType.PARTNER, "billing", "chat", {"prior_incidents": 2}),
        (5, FaultType.CUSTOMER, "outage", "social", {"reach": 25_000}),
        (4, FaultType.UNKNOWN, "service_rudeness", "phone", {"customer_status": "left"}),
    ):
        incident = make_incident(
            severity=severity,
            fault_type=fault,
            category=category,
            channel=channel,
            customer_value=Decimal("2400.00"),
            loss_amount=Decimal("80.00"),
            churn_threat=severity >= 4,
            **extra,
        )
        rows.append(features.matrix(incident, candidate_plans(incident)))
    return np.vstack(rows)


# What each FEATURE_VERSION gives on the probe. Changing what a column holds changes this: bump
# FEATURE_VERSION (stored outcome rows of the old definition are then rebuilt by training, not
# reused), keep the old definition for the artifacts trained on it, and record the new
# fingerprint here. Version 1's must never change: sim-1 to sim-3 score with it.
FINGERPRINTS = {1: "6ca4b7e3ff33ba00", 2: "80e7f3142c7136bc"}


@pytest.mark.parametrize("version", sorted(DEFINITIONS))
def test_stored_rows_round_trip_exactly_and_the_version_pins_the_definition(version):
    features = DEFINITIONS[version]
    rows = _probe_rows(features)
    if features is CURRENT:
        back = rows_from_bytes([row_to_bytes(r) for r in rows])
        np.testing.assert_array_equal(back, rows)
        with pytest.raises(ValueError, match="columns"):
            row_to_bytes(rows[0][:-1])
    # rounded, so that a last-bit difference of another platform's log() is not a new definition
    rounded = np.ascontiguousarray(np.round(rows, 9), dtype="<f8")
    digest = hashlib.sha256(rounded.tobytes()).hexdigest()
    assert FINGERPRINTS[version] == digest[:16], (
        "the feature rows changed: bump FEATURE_VERSION in models/features.py and record "
        f"{digest[:16]} as its fingerprint"
    )
    assert max(DEFINITIONS) == FEATURE_VERSION and CURRENT is DEFINITIONS[FEATURE_VERSION]


def test_version_2_knows_the_whole_vocabulary_the_service_takes():
    """Every channel the API takes and every category of the bundled catalog has its own code."""
    assert set(CHANNELS) <= set(VOCABULARIES["channel"])
    assert set(default_vocabulary().names) <= set(VOCABULARIES["category"])
    assert VOCABULARIES["customer_status"] == CUSTOMER_STATUSES
    # version 1's codes never move: its vocabularies are a prefix of version 2's
    for name, vocab in V1.vocabularies.items():
        assert VOCABULARIES[name][: len(vocab)] == vocab


def test_version_2_sees_what_the_rules_see():
    """Public and its audience, a repeat victim, the customer's status and a no-loss incident."""
    base = make_incident(loss_amount="80.00", customer_value="2400.00")
    p = [plan()]

    def row(incident) -> dict[str, float]:
        return dict(zip(FEATURE_NAMES, feature_matrix(incident, p)[0], strict=True))

    quiet = row(base)
    assert (quiet["public"], quiet["log_reach"], quiet["prior_incidents"], quiet["no_loss"]) == (
        0.0,
        0.0,
        0.0,
        0.0,
    )
    assert quiet["customer_status"] == 0.0  # active
    loud = row(replace(base, channel="review", reach=9_999))
    assert loud["public"] == 1.0 and loud["log_reach"] == pytest.approx(4.0)
    assert loud["channel"] == VOCABULARIES["channel"].index("review")
    assert row(replace(base, public=True))["log_reach"] == pytest.approx(math.log10(101))
    assert row(replace(base, reach=50_000))["log_reach"] == 0.0  # private: nobody hears it
    assert row(replace(base, prior_incidents=3))["prior_incidents"] == 3.0
    assert row(replace(base, prior_incidents=40))["prior_incidents"] == 10.0
    assert row(replace(base, customer_status="left"))["customer_status"] == 2.0
    assert row(replace(base, loss_amount=Decimal(0)))["no_loss"] == 1.0
    assert row(replace(base, category="subscription"))["category"] == CATEGORIES.index(
        "subscription"
    )
    # version 1 sees none of it: its rows are the first six incident columns and the plan's
    assert V1.matrix(replace(base, channel="review", reach=9_999), p).shape == (1, 17)

"""Reading the log for training: ranges, forked readers and the server-side plan items agree."""

import numpy as np
import pytest
import sqlalchemy as sa

from models.features import FEATURE_NAMES, FEATURE_VERSION, rows_from_bytes
from remedy.decisions.ranker import ValueSettings
from remedy.extensions import db
from remedy.money import to_minor
from remedy.store.tables import Decision, Outcome
from training.drive import drive
from training.from_logs import as_rows, load_logged
from training.log_ranges import range_keys
from training.read_logs import count_logged, read_rows, read_whole
from training.simulator import FX_PER_USD

EXPLORING = {"EXPLORATION_RATE": __import__("decimal").Decimal("0.5"), "EXPLORATION_TOP_K": 3}
FIELDS = ("features", "retained", "referrals", "propensity", "decided_at")


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_ranges_and_forked_readers_read_the_same_rows_as_whole_decisions(app):
    report = drive(app, 90, seed=11, progress=False)
    with db.database(app).unit_of_work() as session:
        whole = as_rows(load_logged(session, progress=False), ValueSettings())
        keys = range_keys(session, 25)
        assert len(keys) == -(-report.accepted // 25)  # one key per started range
        assert keys == sorted(keys)
        readings = [
            read_rows(session, ValueSettings(), FX_PER_USD, progress=False, workers=1),
            read_rows(session, ValueSettings(), FX_PER_USD, progress=False, rows_per_range=25),
            read_rows(
                session,
                ValueSettings(),
                FX_PER_USD,
                progress=False,
                workers=2,
                rows_per_range=7,
                chunk=3,
            ),
        ]
    for rows, currencies in readings:
        assert len(rows) == len(whole) == report.accepted
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(rows, name), getattr(whole, name), err_msg=name)
        np.testing.assert_allclose(rows.reward, whole.reward, rtol=1e-12)
        assert sum(currencies.values()) == len(whole)


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_whole_decisions_from_a_position_are_that_slice_of_all(app):
    """read_whole starts at the key of its offset: the same decisions OFFSET would give."""
    drive(app, 30, seed=3, progress=False)
    with db.database(app).unit_of_work() as session:
        n = count_logged(session)
        every = read_whole(session, 0, n)
        some = read_whole(session, 7, 10)
        assert read_whole(session, n, 5) == [] and read_whole(session, 3, 0) == []
    assert len(every) == n and len(some) == 10

    def key(d):  # type: ignore[no-untyped-def]
        return (d.decided_at, d.incident.customer_id, d.logged_index, d.retained)

    assert [key(d) for d in some] == [key(d) for d in every[7:17]]


def test_an_empty_log_reads_as_empty_arrays(app):
    with db.database(app).unit_of_work() as session:
        rows, currencies = read_rows(session, ValueSettings(), FX_PER_USD, progress=False)
    assert len(rows) == 0 and rows.features.shape == (0, len(FEATURE_NAMES)) and currencies == {}


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_outcomes_keep_their_plan_items_and_older_outcomes_read_the_decisions(app):
    drive(app, 40, seed=5, progress=False)
    with db.database(app).unit_of_work() as session:
        pairs = session.execute(sa.select(Outcome, Decision).join(Decision)).all()
        for outcome, decision in pairs:
            items = outcome.plan_id.split("+")
            assert list(outcome.plan_items) == items
            assert all(outcome.plan_items[i] == decision.priced_items[i] for i in items)
        new, _ = read_rows(session, ValueSettings(), FX_PER_USD, progress=False)
        # outcomes recorded before migration 0010 have no plan items of their own
        older = [outcome.decision_id for outcome, _ in pairs[::2]]
        session.execute(
            sa.update(Outcome).where(Outcome.decision_id.in_(older)).values(plan_items=None)
        )
        assert session.scalar(
            sa.select(sa.func.count()).select_from(Outcome).where(Outcome.plan_items.is_(None))
        ) == len(older)
        mixed, _ = read_rows(session, ValueSettings(), FX_PER_USD, progress=False)
    np.testing.assert_array_equal(mixed.features, new.features)
    np.testing.assert_array_equal(mixed.reward, new.reward)


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_stored_feature_rows_are_used_and_others_rebuilt_to_the_same_arrays(app):
    """Outcomes keep their plan's feature row and cost; training reads them when their version
    is this definition's and rebuilds the rest (older outcomes, another version) alike."""
    drive(app, 45, seed=9, progress=False)
    with db.database(app).unit_of_work() as session:
        logged = load_logged(session, progress=False)
        whole = as_rows(logged, ValueSettings())
        outcomes = session.scalars(
            sa.select(Outcome).join(Decision).order_by(Decision.created_at, Decision.id)
        ).all()
        stored = rows_from_bytes([o.features for o in outcomes])
        np.testing.assert_array_equal(stored, whole.features)
        assert {o.features_version for o in outcomes} == {FEATURE_VERSION}
        for outcome, decision in zip(outcomes, logged, strict=True):
            plan = decision.candidates[decision.logged_index]
            assert outcome.plan_cost_minor == to_minor(plan.total_cost, plan.currency)
        cached, _ = read_rows(session, ValueSettings(), FX_PER_USD, progress=False)
        ids = [o.decision_id for o in outcomes]
        session.execute(  # recorded before migration 0011
            sa.update(Outcome)
            .where(Outcome.decision_id.in_(ids[::3]))
            .values(features=None, features_version=None, plan_cost_minor=None)
        )
        session.execute(  # recorded under another feature definition
            sa.update(Outcome)
            .where(Outcome.decision_id.in_(ids[1::3]))
            .values(features_version=FEATURE_VERSION + 1, features=b"\x00" * 8)
        )
        mixed, _ = read_rows(
            session, ValueSettings(), FX_PER_USD, progress=False, workers=2, rows_per_range=10
        )
    for rows in (cached, mixed):
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(rows, name), getattr(whole, name), err_msg=name)
        np.testing.assert_allclose(rows.reward, whole.reward, rtol=1e-12)

"""The lifecycle service on its own (no HTTP): each step's status, reservation and ledger."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from remedy.decisions.record import DecisionStatus
from remedy.errors import Conflict, InvalidInput, LimitsExceeded
from remedy.extensions import db
from remedy.facts import Money
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService
from remedy.store.tables import Decision, LedgerEntry
from tests.conftest import row_count
from tests.factories import decision_row, set_pool, store, verify


def _step(app, action, *args):
    """Run one lifecycle step in its own unit of work; return (status, reserved, committed)."""
    with db.database(app).unit_of_work() as session:
        caps = app_services.engines(app).engine(session).caps
        service = LifecycleService(session, caps, timedelta(hours=1))
        service.begin()
        result = getattr(service, action)(*args, "test")
        reservation = result.reservation
        return (
            result.decision.status,
            None if reservation is None else reservation.reserved_minor,
            None if reservation is None else reservation.committed_minor,
        )


def test_accept_fulfil_below_the_reservation_commits_it_and_releases_the_rest(app):
    set_pool(app, "emea", "100.00")
    (decision,) = store(app, decision_row({"apology+gift_1x": ("40.00", False)}))
    assert _step(app, "accept", decision, "apology+gift_1x") == (DecisionStatus.RESERVED, 4000, 0)
    fulfilled = _step(app, "fulfil", decision, Decimal("35.50"), "EUR")
    assert fulfilled == (DecisionStatus.FULFILLED, 0, 3550)
    assert verify(app).ok


def test_a_plan_needing_approval_reserves_nothing_until_approved(app):
    set_pool(app, "emea", "100.00")
    (decision,) = store(app, decision_row({"apology+credit": ("27.00", True)}))
    pending = _step(app, "accept", decision, "apology+credit")
    assert pending == (DecisionStatus.PENDING_APPROVAL, None, None)
    assert _step(app, "approve", decision) == (DecisionStatus.RESERVED, 2700, 0)


def test_a_plan_over_the_pool_names_the_pool_and_changes_nothing(app):
    set_pool(app, "emea", "30.00")
    (decision,) = store(app, decision_row({"apology+gift_1x": ("40.00", False)}))
    with pytest.raises(LimitsExceeded) as refused:
        _step(app, "accept", decision, "apology+gift_1x")
    (limit,) = refused.value.limits
    assert limit.code == "limit_pool" and str(limit.param("pool")).startswith("emea/")
    assert limit.param("more") == Money(Decimal("40.00"), "EUR")
    assert limit.param("limit") == Money(Decimal("30.00"), "EUR")
    assert row_count(app, LedgerEntry) == 0
    with db.database(app).unit_of_work() as session:
        assert session.get(Decision, decision).status == DecisionStatus.PROPOSED


def test_steps_out_of_order_and_unknown_plans_are_refused(app):
    set_pool(app, "emea", "100.00")
    (decision,) = store(app, decision_row({"apology+gift_1x": ("10.00", False)}))
    with pytest.raises(InvalidInput):
        _step(app, "accept", decision, "apology+credit")
    with pytest.raises(Conflict):
        _step(app, "fulfil", decision, Decimal("1.00"), "EUR")
    _step(app, "accept", decision, "apology+gift_1x")
    assert _step(app, "cancel", decision) == (DecisionStatus.CANCELLED, 0, 0)
    with pytest.raises(Conflict):
        _step(app, "cancel", decision)
    assert verify(app).ok

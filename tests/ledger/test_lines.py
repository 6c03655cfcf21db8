"""A pool split into a fix line and an overdelivery line: each part of a plan spends from its
line, every step returns money to the line it came from, pacing reads the overdelivery line,
and the ledger verifies. A pool of one line behaves as it always did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.ledger.budgets import BudgetService
from remedy.ledger.periods import period_at
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService
from remedy.store.tables import LedgerEntry, PoolCounter, Reservation
from tests.factories import decision_row, store, verify
from tests.factories import set_pool as _set_pool

BOTH = "credit+gift_1x"  # 37.00: a 27.00 credit (fix) and a 10.00 gift (overdelivery)
FIX = "credit"  # 27.00, all fix
GIFT = "apology+gift_1x"  # 10.00, all overdelivery


def set_pool(app, limit=None, lines=None):
    _set_pool(app, "emea", limit, lines=lines)


def post(client, auth, decision_id, step, body=None, role="agent"):
    return client.post(f"/v1/decisions/{decision_id}/{step}", json=body, headers=auth(role))


def decisions(app, *plans):
    """One stored decision per plan id, each for its own customer."""
    rows = [
        decision_row({plan: (cost, False)}, customer_id=f"c{i}")
        for i, (plan, cost) in enumerate(plans)
    ]
    return store(app, *rows)


def counter(app):
    """The pool period's (reserved, committed, fix reserved, fix committed)."""
    with db.database(app).unit_of_work() as session:
        row = session.scalars(sa.select(PoolCounter)).one()
        return (
            row.reserved_minor,
            row.committed_minor,
            row.fix_reserved_minor,
            row.fix_committed_minor,
        )


def test_each_part_of_a_plan_must_fit_its_own_line(app, client, auth):
    set_pool(app, lines=("100.00", "15.00"))
    first, second, third, fourth, fifth = decisions(
        app, (BOTH, "37.00"), (BOTH, "37.00"), (FIX, "27.00"), (FIX, "27.00"), (FIX, "27.00")
    )
    assert post(client, auth, first, "accept", {"plan_id": BOTH}).status_code == 200
    assert counter(app) == (3700, 0, 2700, 0)
    # 10.00 more would put the overdelivery line at 20.00 of 15.00, the fix line still fits.
    refused = post(client, auth, second, "accept", {"plan_id": BOTH})
    assert refused.status_code == 409
    (breach,) = refused.json["errors"]["limit"]
    assert breach.startswith("overdelivery line of pool emea/")
    assert "limit of €15.00" in breach and "remaining €5.00" in breach
    # Fixes spend from the fix line alone: two more fit (81.00), a third would not (108.00).
    assert post(client, auth, third, "accept", {"plan_id": FIX}).status_code == 200
    assert post(client, auth, fourth, "accept", {"plan_id": FIX}).status_code == 200
    refused = post(client, auth, fifth, "accept", {"plan_id": FIX})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("fix line of pool emea/")
    assert counter(app) == (9100, 0, 8100, 0)
    assert verify(app).ok, verify(app).failures


def test_fulfil_commits_the_fix_first_and_gives_the_rest_back_to_its_line(app, client, auth):
    set_pool(app, lines=("100.00", "50.00"))
    cheaper, below_fix = decisions(app, (BOTH, "37.00"), (BOTH, "37.00"))
    for decision_id in (cheaper, below_fix):
        assert post(client, auth, decision_id, "accept", {"plan_id": BOTH}).status_code == 200
    # The gift cost 3.00 instead of 10.00: the fix is committed whole, 7.00 goes back.
    assert post(client, auth, cheaper, "fulfil", {"actual_cost": "30.00"}).status_code == 200
    assert counter(app) == (3700, 3000, 2700, 2700)
    # Less than the fix itself: all of it is the fix's; both lines get the rest back.
    assert post(client, auth, below_fix, "fulfil", {"actual_cost": "20.00"}).status_code == 200
    assert counter(app) == (0, 5000, 0, 4700)
    with db.database(app).unit_of_work() as session:
        reservation = session.scalars(
            sa.select(Reservation).where(Reservation.decision_id == below_fix)
        ).one()
        assert (reservation.fix_committed_minor, reservation.committed_minor) == (2000, 2000)
        kinds = session.execute(
            sa.select(LedgerEntry.kind, LedgerEntry.amount_minor, LedgerEntry.fix_minor)
            .where(LedgerEntry.decision_id == below_fix)
            .order_by(LedgerEntry.id)
        ).all()
    assert kinds == [("reserve", 3700, 2700), ("commit", 2000, 2000), ("release", 1700, 700)]
    assert verify(app).ok


def test_cancel_and_expiry_give_each_line_its_money_back(app, client, auth):
    set_pool(app, lines=("60.00", "20.00"))
    cancelled, expiring, later = decisions(app, (BOTH, "37.00"), (BOTH, "37.00"), (BOTH, "37.00"))
    assert post(client, auth, cancelled, "accept", {"plan_id": BOTH}).status_code == 200
    assert post(client, auth, cancelled, "cancel", {}).status_code == 200
    assert counter(app) == (0, 0, 0, 0)
    app.config["RESERVATION_TTL_SECONDS"] = 0
    assert post(client, auth, expiring, "accept", {"plan_id": BOTH}).status_code == 200
    # The next write to the pool expires the first reservation, so the second one fits again.
    app.config["RESERVATION_TTL_SECONDS"] = 3600
    assert post(client, auth, later, "accept", {"plan_id": BOTH}).status_code == 200
    assert counter(app) == (3700, 0, 2700, 0)
    assert verify(app).ok


def test_an_overage_spends_from_the_overdelivery_line(app, client, auth):
    set_pool(app, lines=("100.00", "15.00"))
    within, beyond = decisions(app, (BOTH, "37.00"), (GIFT, "2.00"))
    assert post(client, auth, within, "accept", {"plan_id": BOTH}).status_code == 200
    assert post(client, auth, within, "fulfil", {"actual_cost": "42.00"}).status_code == 202
    approved = post(client, auth, within, "approve", {}, role="finance")
    assert approved.status_code == 200, approved.json
    assert counter(app) == (0, 4200, 0, 2700)  # 15.00 of overdelivery: the line is full
    refused = post(client, auth, beyond, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("overdelivery line of pool")
    assert verify(app).ok


def test_an_overage_past_the_overdelivery_line_is_refused_even_with_fix_room(app, client, auth):
    set_pool(app, lines=("1000.00", "12.00"))
    (decision_id,) = decisions(app, (BOTH, "37.00"))
    assert post(client, auth, decision_id, "accept", {"plan_id": BOTH}).status_code == 200
    assert post(client, auth, decision_id, "fulfil", {"actual_cost": "40.00"}).status_code == 202
    refused = post(client, auth, decision_id, "approve", {}, role="finance")
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("overdelivery line of pool")
    assert counter(app) == (3700, 0, 2700, 0)
    assert verify(app).ok


def test_a_pool_of_one_line_counts_fix_and_overdelivery_together_as_before(app, client, auth):
    set_pool(app, limit="50.00")
    first, second = decisions(app, (BOTH, "37.00"), (GIFT, "14.00"))
    assert post(client, auth, first, "accept", {"plan_id": BOTH}).status_code == 200
    refused = post(client, auth, second, "accept", {"plan_id": GIFT})
    assert refused.status_code == 409
    assert refused.json["errors"]["limit"][0].startswith("pool emea/")
    assert counter(app) == (3700, 0, 2700, 0)  # the fix part is kept all the same
    (pool,) = client.get("/v1/budgets/emea", headers=auth("finance")).json["pools"]
    assert pool["split"] is False
    fix, overdelivery = pool["lines"]["fix"], pool["lines"]["overdelivery"]
    assert fix == {
        "limit": "50.00",
        "reserved": "27.00",
        "committed": "0.00",
        "remaining": "13.00",
        "shared": True,
    }
    assert (overdelivery["reserved"], overdelivery["remaining"]) == ("10.00", "13.00")
    assert verify(app).ok


def test_verify_finds_a_fix_counter_that_disagrees_with_the_ledger(app, client, auth):
    set_pool(app, lines=("100.00", "50.00"))
    (decision_id,) = decisions(app, (BOTH, "37.00"))
    assert post(client, auth, decision_id, "accept", {"plan_id": BOTH}).status_code == 200
    with db.database(app).unit_of_work() as session:
        session.execute(sa.update(PoolCounter).values(fix_reserved_minor=100))
    failures = verify(app).failures
    assert any(
        "counter says (3700, 0, 100, 0), the ledger says (3700, 0, 2700, 0)" in f for f in failures
    )


def next_month(hours: int) -> datetime:
    """A moment `hours` into next month (pools set now are in effect then)."""
    return period_at("month", datetime.now(UTC)).end + timedelta(hours=hours)


@pytest.mark.parametrize(("lines", "paced"), [(("5000.00", "1000.00"), False), (None, True)])
def test_a_large_make_whole_paces_gifts_only_when_the_pool_has_one_line(app, lines, paced):
    """4,000.00 of refund early in the month: on a split pool it fills the fix line and the
    overdelivery line stays at price 1; on one 6,000.00 line it prices every gift up."""
    set_pool(app, limit=None if lines else "6000.00", lines=lines)
    early = next_month(12)
    (refund,) = store(app, decision_row({"refund": ("4000.00", False)}, customer_id="big"))
    with db.database(app).unit_of_work() as session:
        caps = app_services.engines(app).engine(session).caps
        service = LifecycleService(session, caps, timedelta(days=30), clock=lambda: early)
        service.begin()
        service.accept(refund, "refund", "test")
    with db.database(app).unit_of_work() as session:
        limits = app_services.engines(app).engine(session).caps.limits
        headroom = BudgetService(session).headroom("emea", "someone", "EUR", limits, early)
        standing = BudgetService(session).standing("emea", "EUR", early, limits.pacing)
    assert headroom.pace.ahead is paced  # one line: 67% spent 2% into the month
    assert (str(headroom.pace.price) == "1") is not paced
    assert standing.pacing.cost_price == headroom.pace.price
    assert headroom.pool.fix_line.held_minor == 400000
    if lines:
        assert headroom.pool.overdelivery_line.remaining_minor == 100000
        assert headroom.pool.fix_line.remaining_minor == 100000
    assert verify(app).ok

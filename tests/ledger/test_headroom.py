"""Headroom in one query gives the figures the five separate reads gave."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from remedy.extensions import db
from remedy.ledger.budgets import BudgetService, pool_state
from remedy.ledger.limits import CapacityState, Headroom
from remedy.ledger.pacing import pace
from remedy.ledger.periods import day_key, period_at
from remedy.services.configs import ConfigService
from remedy.store.tables import CapacityCounter, utcnow
from tests.conftest import incident_payload
from tests.factories import set_pool


def separate_reads(session, team, customer_id, currency, limits, at) -> Headroom:
    """Headroom as it was read before: pool (team, then default), its counter, window, contacts."""
    budgets = BudgetService(session)
    pool = budgets.resolve_pool(team, currency, at)
    state = current = None
    if pool is not None:
        period = period_at(pool.period, at)
        state = pool_state(pool, period, budgets._counter(pool.team, currency, period.key))
        current = pace(state.held_minor, state.limit_minor, period.elapsed_share(at), limits.pacing)
    window = budgets.window_state(customer_id, currency, limits, at)
    day = day_key(at)
    used = dict(
        session.execute(
            sa.select(CapacityCounter.level, CapacityCounter.used).where(
                CapacityCounter.team == team, CapacityCounter.day == day
            )
        ).all()
    )
    capacities = {
        level: CapacityState(level, day, limits.capacity_for(level, team), used.get(level, 0), team)
        for level in limits.capacities_for(team)
    }
    return Headroom(state, window, capacities, current)


def accept_best(client, auth, team: str, customer_id: str, currency: str = "EUR") -> None:
    """Recommend for `customer_id` and accept the first plan shown."""
    payload = incident_payload(customer_id=customer_id, currency=currency, severity=4)
    answer = client.post(
        "/v1/recommendations", json={"incident": payload, "team": team}, headers=auth("agent")
    )
    assert answer.status_code == 201, answer.json
    decision = answer.json
    accepted = client.post(
        f"/v1/decisions/{decision['decision_id']}/accept",
        json={"plan_id": decision["plans"][0]["plan_id"]},
        headers=auth("agent"),
    )
    assert accepted.status_code in (200, 202), accepted.json


def test_one_query_headroom_equals_the_separate_reads(app, client, auth):
    set_pool(app, "default", "5000", "EUR", period="month")
    set_pool(app, "emea", "800", "EUR", period="week")
    set_pool(app, "emea", "900", "EUR", period="week")  # a newer version supersedes the first
    set_pool(app, "default", "3000", "USD", period="week")
    with db.database(app).unit_of_work() as session:  # scheduled: not in effect yet
        BudgetService(session).set_pool(
            "emea", "month", Decimal("1"), "EUR", "test", effective_at=utcnow() + timedelta(days=3)
        )
    accept_best(client, auth, "emea", "c-1")
    accept_best(client, auth, "emea", "c-1")
    accept_best(client, auth, "apac", "c-2")  # spends from the default pool
    accept_best(client, auth, "apac", "c-2", currency="USD")
    at = utcnow()
    with db.database(app).unit_of_work() as session:
        limits = ConfigService(session).load_active().caps.limits
        budgets = BudgetService(session)
        cases = [
            (team, customer, currency)
            for team in ("emea", "apac", "default")
            for customer in ("c-1", "c-2", "c-3")
            for currency in ("EUR", "USD", "GBP")
        ]
        for team, customer, currency in cases:
            expected = separate_reads(session, team, customer, currency, limits, at)
            assert budgets.headroom(team, customer, currency, limits, at) == expected, (
                team,
                customer,
                currency,
            )
        # The figures are real ones, not two empty answers agreeing.
        emea = budgets.headroom("emea", "c-1", "EUR", limits, at)
        assert emea.pool.team == "emea" and emea.pool.limit_minor == 90000
        assert emea.pool.reserved_minor > 0 and emea.window.used_minor == emea.pool.held_minor
        apac = budgets.headroom("apac", "c-2", "USD", limits, at)
        assert apac.pool.team == "default" and apac.pool.period_key.startswith(f"{at.year}-W")
        assert budgets.headroom("apac", "c-2", "GBP", limits, at).pool is None

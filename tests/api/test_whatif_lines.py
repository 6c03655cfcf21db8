"""The what-if replay counts fix money and overdelivery money on a pool's two lines exactly as
the ledger does: a seeded month through the real service, replayed under the current settings,
spends what the ledger committed on each line; proposed two-line pools go through the API with
the pools API's field names and validation. Both databases.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.decisions.record import DecisionRecord, DecisionStatus
from remedy.errors import Conflict
from remedy.extensions import db
from remedy.ledger.limits import fix_share
from remedy.money import to_minor
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService
from remedy.services.recommendations import RecommendationService
from remedy.store.tables import Decision, utcnow
from tests.factories import make_incident, set_caps, set_pool, simulated

TEAM = "sim"


def _range() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def _seed(app, incidents) -> list[str]:
    """Decide each incident with the real service and take the first shown plan the ledger
    accepts (as an agent would), fulfilled at its cost; return the accepted plan ids."""
    database = db.database(app)
    ttl = timedelta(seconds=app.config["RESERVATION_TTL_SECONDS"])
    exploration, _ = app_services.exploration(app)
    accepted = []
    for n, incident in enumerate(incidents):
        incident = dataclasses.replace(incident, team=TEAM, customer_id=f"line-{n}")
        with app.app_context(), database.unit_of_work() as session:
            engine = app_services.engines(app).engine(session)
            decision = RecommendationService(
                session, engine, exploration, random.Random(n)
            ).recommend(incident, 3, "test")
            decision_id, shown, caps = decision.id, list(decision.shown), engine.caps
        for plan_id in shown:
            try:
                with database.unit_of_work() as session:
                    lifecycle = LifecycleService(session, caps, ttl)
                    lifecycle.begin()
                    step = lifecycle.accept(decision_id, plan_id, "test")
                    if step.decision.status == DecisionStatus.PENDING_APPROVAL:
                        lifecycle.approve(decision_id, "test")
                    cost = DecisionRecord.of(step.decision).candidate(plan_id).total_cost
                    lifecycle.fulfil(decision_id, cost, incident.currency, "test")
                accepted.append(plan_id)
                break
            except Conflict:
                continue
    return accepted


def _ledger_lines(client, auth) -> dict[str, Decimal]:
    """What the ledger committed on each line of the team's EUR pool (GET /v1/budgets)."""
    pools = client.get("/v1/budgets", headers=auth("finance")).json["pools"]
    (pool,) = [p for p in pools if (p["team"], p["currency"]) == (TEAM, "EUR")]
    assert pool["split"] is True
    return {line: Decimal(pool["lines"][line]["committed"]) for line in ("fix", "overdelivery")}


def _logged_lines(app) -> dict[str, Decimal]:
    """The accepted plans' fix parts and the rest, as the ledger reserves them (fix_share)."""
    lines = {"fix": Decimal(0), "overdelivery": Decimal(0)}
    with db.database(app).unit_of_work() as session:
        for d in session.scalars(sa.select(Decision).where(Decision.team == TEAM)):
            record = DecisionRecord.of(d)
            # the apology-only answer when a limit blocks every plan is not replayed (README)
            assert not any(c.blocked_by for c in record.candidates), d.accepted_plan_id
            if d.accepted_plan_id:
                plan = record.plan(record.candidate(d.accepted_plan_id))
                cost = to_minor(plan.total_cost, "EUR")
                fix = fix_share(cost, to_minor(plan.fix_cost, "EUR"))
                lines["fix"] += Decimal(fix) / 100
                lines["overdelivery"] += Decimal(cost - fix) / 100
    return lines


def _line_spend(report) -> dict[str, Decimal]:
    return {
        line: Decimal(report["spend_by_line"][line].get("EUR", "0"))
        for line in ("fix", "overdelivery")
    }


BIG_FIX = make_incident(loss_amount="900.00", severity=4, customer_value="20000")
NO_LOSS = make_incident(loss_amount="0", severity=4, customer_value="20000")
SMALL_LOSS = make_incident(loss_amount="40.00", severity=3, customer_value="3000")


def test_a_big_make_whole_exhausts_the_fix_line_and_gifts_still_fit(app, client, auth):
    """A 900 EUR loss made whole (a 540 EUR redo) takes the fix line of 570 EUR down to what
    no further fix of this size fits; the gift and the calls after it still come from the
    overdelivery line. The replay spends on each line what the ledger committed."""
    set_caps(app, contact_capacity={})
    set_pool(app, TEAM, None, lines=("570", "1000"))
    accepted = _seed(app, [BIG_FIX, NO_LOSS, SMALL_LOSS, NO_LOSS])
    assert len(accepted) == 4
    assert "gift_1x" in accepted[0]  # the big fix kept its gift: the lines are apart
    ledger = _ledger_lines(client, auth)
    assert ledger == _logged_lines(app)
    assert 570 - ledger["fix"] < 24  # SMALL_LOSS's redo (24 EUR) would no longer fit
    assert ledger["overdelivery"] > 383  # the big fix's gift and call, and every call after

    current = simulated(app, client, _range(), auth("finance"))["current"]
    assert _line_spend(current) == ledger
    assert Decimal(current["spend"]["EUR"]) == sum(ledger.values())
    assert current["chosen"] == 4 and current["skipped_for_budget"] == 0

    # Proposed as one line of 600 EUR, the big fix's room is everyone's: plans are turned
    # away by the pool, and no line is named.
    one_line = {"team": TEAM, "currency": "EUR", "period": "month", "limit": "600"}
    result = simulated(app, client, {**_range(), "pools": [one_line]}, auth("finance"))
    assert result["proposed"]["skipped_for_pool"] >= 1
    assert result["proposed"]["skipped_for_fix_line"] == 0  # one line: no line to name


def test_a_spent_overdelivery_line_keeps_the_fixes_whole(app, client, auth):
    """The reverse: a small overdelivery line (200 EUR) is mostly spent on calls and an
    upgrade; the big fix then loses its gift (the overdelivery line turned it away) but is
    still made whole from the fix line. The replay agrees with the ledger line by line."""
    set_caps(app, contact_capacity={})
    set_pool(app, TEAM, None, lines=("5000", "200"))
    accepted = _seed(app, [NO_LOSS, SMALL_LOSS, NO_LOSS, BIG_FIX])
    assert len(accepted) == 4
    assert "replacement" in accepted[3] and "gift" not in accepted[3]
    ledger = _ledger_lines(client, auth)
    assert ledger == _logged_lines(app)
    assert ledger["overdelivery"] <= 200 and ledger["fix"] >= Decimal("564.00")

    current = simulated(app, client, _range(), auth("finance"))["current"]
    assert _line_spend(current) == ledger
    assert current["skipped_for_overdelivery_line"] >= 1
    assert current["skipped_for_fix_line"] == 0


def test_a_proposed_two_line_pool_replays_on_its_lines(app, client, auth):
    """The same month under one shared line spends the gifts' room on the big fix; proposed as
    two lines through the API, the fix line turns the dearer fix away and the gifts stay."""
    set_caps(app, contact_capacity={})
    set_pool(app, TEAM, "4000")
    _seed(app, [BIG_FIX, NO_LOSS, SMALL_LOSS, NO_LOSS])
    proposed_pool = {
        "team": TEAM,
        "currency": "EUR",
        "period": "month",
        "fix_limit": "950",
        "overdelivery_limit": "150",
    }
    result = simulated(app, client, {**_range(), "pools": [proposed_pool]}, auth("finance"))
    current, proposed = result["current"], result["proposed"]
    assert current["skipped_for_fix_line"] == current["skipped_for_overdelivery_line"] == 0
    lines = _line_spend(proposed)
    assert lines["fix"] <= 950 and lines["overdelivery"] <= 150
    assert lines["fix"] >= 540  # the big fix is still made whole
    assert proposed["skipped_for_overdelivery_line"] >= 1  # its gift did not fit
    # a limit beside the lines must be their sum, as PUT /v1/budgets/<team> says
    same = {**proposed_pool, "limit": "1100"}
    again = simulated(app, client, {**_range(), "pools": [same]}, auth("finance"))["proposed"]
    assert again == proposed


def test_a_single_line_proposal_reads_as_before(app, client, auth):
    """A proposed pool with one `limit` is one line for both: its line spend is split only in
    the report (spend_by_line), never by limits."""
    set_caps(app, contact_capacity={})
    set_pool(app, TEAM, "4000")
    _seed(app, [BIG_FIX, NO_LOSS])
    pool = {"team": TEAM, "currency": "EUR", "period": "month", "limit": "4000"}
    result = simulated(app, client, {**_range(), "pools": [pool]}, auth("finance"))
    assert result["proposed"] == result["current"]
    current = result["current"]
    assert current["skipped_for_fix_line"] == current["skipped_for_overdelivery_line"] == 0
    lines = _line_spend(current)
    assert sum(lines.values()) == Decimal(current["spend"]["EUR"]) and lines["fix"] >= 540


@pytest.mark.parametrize(
    ("pool", "field"),
    [
        ({"fix_limit": "100"}, "pools.0.overdelivery_limit"),
        ({"overdelivery_limit": "100"}, "pools.0.fix_limit"),
        ({"fix_limit": "100", "overdelivery_limit": "50", "limit": "151"}, "pools.0.limit"),
        ({"fix_limit": "-1", "overdelivery_limit": "50"}, "fix_limit"),
        ({"fix_limit": "1.001", "overdelivery_limit": "50"}, "fix_limit"),
        ({}, "pools.0.limit"),
    ],
)
def test_bad_proposed_lines_name_the_field(app, client, auth, pool, field):
    """Refused as PUT /v1/budgets/<team> refuses them: 422 naming the field, no job queued."""
    body = {
        **_range(),
        "pools": [{"team": "default", "currency": "EUR", "period": "month", **pool}],
    }
    response = client.post("/v1/budgets/simulate", json=body, headers=auth("finance"))
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert any(field in key for key in errors), errors

"""POST /v1/budgets/simulate: replays of logged decisions, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.decisions.record import DecisionRecord
from remedy.extensions import db
from remedy.store.tables import Decision, LedgerEntry, Reservation, utcnow
from tests.conftest import row_count
from tests.factories import default_document, run_jobs, set_caps, simulated
from training.drive import drive

SWEEP = ["1", "2", "3", "4", "5", "6"]


def _range() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


@pytest.fixture
def logged(app):
    """Decisions with outcomes from the real service; no contact capacity, so every decision's
    accepted plan is its best kept plan and the replay can be compared exactly."""
    set_caps(app, contact_capacity={})
    drive(app, 30, team="sim", seed=3, progress=False)
    return app


@pytest.fixture
def logged_tight(app):
    """Decisions from the real service under one contact a day per level, so the service had
    to pass over plans with a call once the day's call was taken."""
    set_caps(app, contact_capacity={"agent": 1, "manager": 1, "executive": 1})
    drive(app, 30, team="sim", seed=3, progress=False)
    return app


def _counts(app) -> tuple[int, int, int]:
    return tuple(row_count(app, model) for model in (Decision, Reservation, LedgerEntry))


def _logged_spend(app) -> dict[str, Decimal]:
    """What the accepted plans of the logged decisions cost, per currency."""
    with db.database(app).unit_of_work() as session:
        decisions = session.scalars(sa.select(Decision)).all()
        logged_spend: dict[str, Decimal] = {}
        for d in decisions:
            if d.accepted_plan_id:
                cost = DecisionRecord.of(d).candidate(d.accepted_plan_id).total_cost
                logged_spend[d.currency] = logged_spend.get(d.currency, Decimal(0)) + cost
    return logged_spend


def test_current_settings_reproduce_logged_spend(logged, client, auth):
    """Replaying under the current settings spends what the logged accepted plans cost."""
    logged_spend = _logged_spend(logged)
    before = _counts(logged)
    response = simulated(logged, client, _range(), auth("finance"))
    current = response["current"]
    assert current["decisions"] == 30
    assert {c: Decimal(v) for c, v in current["spend"].items()} == logged_spend
    assert response["proposed"] == current  # nothing proposed: the same
    assert _counts(logged) == before


def test_current_settings_reproduce_logged_spend_under_tight_contact_capacity(
    logged_tight, client, auth
):
    """The service refused plans whose contact level was full that day; so does the replay."""
    logged_spend = _logged_spend(logged_tight)
    before = _counts(logged_tight)
    response = simulated(logged_tight, client, _range(), auth("finance"))
    current = response["current"]
    assert {c: Decimal(v) for c, v in current["spend"].items()} == logged_spend
    assert current["skipped_for_contact_capacity"] > 0
    assert current["skipped_for_budget"] == current["skipped_for_contact_capacity"]
    assert current["skipped_for_pool"] == current["skipped_for_customer_window"] == 0
    assert _counts(logged_tight) == before


def test_proposed_window_and_capacity_apply(logged, client, auth):
    """A proposed caps document's window and capacity replace the current ones: a zero window
    leaves only free plans, and no agent or manager calls moves the skips to contact capacity."""
    currencies = ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK")
    caps = default_document("caps")
    caps["customer_window"] = {"days": 30, "limit": {c: "0" for c in currencies}}
    body = {**_range(), "caps": caps}
    response = simulated(logged, client, body, auth("finance"))
    current, proposed = response["current"], response["proposed"]
    assert all(current[k] == 0 for k in current if k.startswith("skipped_for"))
    assert all(Decimal(v) == 0 for v in proposed["spend"].values())
    assert proposed["skipped_for_customer_window"] == proposed["skipped_for_budget"] > 0
    assert proposed["skipped_for_pool"] == 0

    caps = {**default_document("caps"), "contact_capacity": {"agent": 0, "manager": 0}}
    body = {**_range(), "caps": caps}
    response = simulated(logged, client, body, auth("finance"))
    proposed = response["proposed"]
    assert proposed["skipped_for_contact_capacity"] == proposed["skipped_for_budget"] > 0
    # Only an incident whose best plan was skipped can be left without a plan (some rules
    # require a call, so not every incident has a plan without one).
    lost = current["chosen"] - proposed["chosen"]
    assert 0 <= lost <= proposed["skipped_for_contact_capacity"]
    assert proposed["chosen"] + proposed["no_plan"] == proposed["decisions"] == 30


def test_raising_the_cap_never_lowers_spend(logged, client, auth):
    """A sweep of the default loss multiple: spend is monotone, proposed caps apply."""
    before = _counts(logged)
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1"
    body = {
        **_range(),
        "caps": caps,
        "sweep": {"path": "incident_caps.default.loss_multiple", "values": SWEEP},
    }
    response = simulated(logged, client, body, auth("finance"))
    curve = response["sweep"]["curve"]
    assert [p["value"] for p in curve] == SWEEP
    for currency in {c for p in curve for c in p["spend"]}:
        spend = [Decimal(p["spend"].get(currency, "0")) for p in curve]
        assert spend == sorted(spend), (currency, spend)
    proposed = response["proposed"]
    assert proposed["decisions"] == 30
    assert Decimal(proposed["capped_share"]) >= Decimal(response["current"]["capped_share"])
    assert _counts(logged) == before


def test_a_sweep_of_contact_capacity(logged, client, auth):
    """Integer fields may be swept; a day's capacity large enough for every call changes
    nothing, none at all leaves calls out."""
    body = {
        **_range(),
        "caps": default_document("caps"),  # manager: 40, executive: 5
        "sweep": {"path": "contact_capacity.manager", "values": ["0", "40"]},
    }
    response = simulated(logged, client, body, auth("finance"))
    none, plenty = response["sweep"]["curve"]
    assert plenty["spend"] == response["proposed"]["spend"]
    assert none["spend"] != plenty["spend"]


def test_a_tight_pool_skips_plans(logged, client, auth):
    """A proposed pool that is too small for everything spends at most its limit."""
    body = {
        **_range(),
        "pools": [
            {"team": "sim", "currency": c, "period": "month", "limit": "50"}
            for c in ("EUR", "USD", "GBP", "CHF", "CAD", "AUD", "JPY", "SEK")
        ],
    }
    response = simulated(logged, client, body, auth("finance"))
    proposed = response["proposed"]
    assert all(Decimal(v) <= 50 for v in proposed["spend"].values())
    assert proposed["skipped_for_budget"] > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"from": "2026-12-01", "to": "2026-11-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        (
            {"pools": [{"team": "nobody", "currency": "EUR", "period": "month", "limit": "9"}]},
            "pools.team",
        ),
        (
            {
                "sweep": {
                    "path": "incident_caps.default.loss_multiple",
                    "values": [str(v) for v in range(51)],
                }
            },
            "sweep.values",
        ),
        ({"sweep": {"path": "incident_caps.nope", "values": ["1"]}}, "sweep.path"),
        (
            {"sweep": {"path": "incident_caps.default.loss_multiple", "values": ["-1"]}},
            "sweep.values",
        ),
    ],
)
def test_bad_input_names_the_field(app, client, auth, change, field):
    """Bad input is a 4xx naming the field, and nothing is written."""
    before = _counts(app)
    body = {"from": "2026-11-01", "to": "2026-12-01", **change}
    response = client.post("/v1/budgets/simulate", json=body, headers=auth("finance"))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert _counts(app) == before


def test_negative_caps_are_refused(app, client, auth):
    """A proposed caps document is validated like PUT /v1/caps."""
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "-2"
    body = {"from": "2026-11-01", "to": "2026-12-01", "caps": caps}
    response = client.post("/v1/budgets/simulate", json=body, headers=auth("finance"))
    assert response.status_code == 422
    assert "caps" in response.json["errors"]


def test_agents_may_not_simulate(app, client, auth):
    """Finance's tool."""
    body = {"from": "2026-11-01", "to": "2026-12-01"}
    assert client.post("/v1/budgets/simulate", json=body, headers=auth("agent")).status_code == 403


def test_a_range_too_large_fails_its_job_naming_it(logged, client, auth):
    """Above WHATIF_MAX_INCIDENTS the job fails with an error on `to` pointing at the CLI."""
    logged.config["WHATIF_MAX_INCIDENTS"] = 29  # `logged` holds 30 decisions
    before = _counts(logged)
    queued = client.post("/v1/budgets/simulate", json=_range(), headers=auth("finance"))
    assert queued.status_code == 202, queued.json
    assert run_jobs(logged) == 1
    failed = client.get(queued.headers["Location"], headers=auth("finance")).json
    assert failed["status"] == "failed" and failed["result"] is None
    assert "30 logged incidents" in failed["error"]["errors"]["to"][0]
    assert "remedy whatif" in failed["error"]["message"]
    logged.config["WHATIF_MAX_INCIDENTS"] = 30
    allowed = simulated(logged, client, _range(), auth("finance"))
    assert allowed["current"]["decisions"] == 30
    assert _counts(logged) == before

"""Suggested caps: the search over today's terms, scored by the replay, within the pool."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from click.testing import CliRunner

from remedy.cli import cli
from remedy.extensions import db
from remedy.services import app_services
from remedy.store.tables import utcnow
from remedy.whatif.service import WhatIfService
from remedy.whatif.suggest import apply_factors, knobs_for, suggest_caps
from tests.factories import default_document, set_pool

LOSSES = [("40.00", 2), ("90.00", 3), ("150.00", 4), ("260.00", 5), ("35.00", 2), ("120.00", 4)]


def _log(client, auth) -> None:
    for number, (loss, severity) in enumerate(LOSSES):
        incident = {
            "customer_id": f"s-{number}",
            "severity": severity,
            "fault_type": "company",
            "customer_value": "5000.00",
            "loss_amount": loss,
            "currency": "EUR",
            "category": "delivery",
        }
        response = client.post(
            "/v1/recommendations",
            json={"incident": incident, "team": "emea"},
            headers=auth("agent"),
        )
        assert response.status_code == 201, response.json


def _suggest(app, limit: str, **options):
    set_pool(app, "emea", limit)
    today = utcnow()
    start, end = today - timedelta(days=1), today + timedelta(days=1)
    steps: list[int] = []

    def progress(total: int):
        steps.append(total)
        return lambda n: steps.append(n)

    with app.app_context():
        session = db.database(app).sessions()
        try:
            service = WhatIfService(session, app_services.scorer(app)(session))
            result = suggest_caps(service, "emea", "EUR", start, end, progress=progress, **options)
        finally:
            session.close()
    return result, steps


def test_knobs_scale_every_term_where_the_document_sets_it():
    caps = default_document("caps")
    knobs = {k.name: k for k in knobs_for(caps, "EUR")}
    assert knobs["loss_multiple"].paths == (
        "incident_caps.default.loss_multiple",
        "incident_caps.overrides.0.set.loss_multiple",
        "incident_caps.overrides.1.set.loss_multiple",
        "incident_caps.overrides.2.set.loss_multiple",
        "incident_caps.overrides.3.set.loss_multiple",
    )
    assert knobs["absolute EUR"].paths == (
        "incident_caps.default.absolute.EUR",
        "incident_caps.overrides.2.set.absolute.EUR",
    )
    scaled = apply_factors(
        caps,
        list(knobs.values()),
        {
            "loss_multiple": Decimal("1.5"),
            "value_share": Decimal("8"),
            "absolute EUR": Decimal("0.75"),
        },
    )
    assert scaled["incident_caps"]["default"]["loss_multiple"] == "3"
    assert scaled["incident_caps"]["overrides"][0]["set"]["loss_multiple"] == "3.75"
    assert scaled["incident_caps"]["overrides"][2]["set"]["value_share"] == "1"  # at most 1
    assert scaled["incident_caps"]["default"]["absolute"]["EUR"] == "375.00"
    assert scaled["incident_caps"]["default"]["absolute"]["USD"] == "550.00"  # another currency
    assert caps == default_document("caps")  # the input is left alone


def test_a_generous_pool_gets_the_caps_that_earn_most(app, client, auth):
    _log(client, auth)
    result, steps = _suggest(app, "100000.00", rounds=1)
    assert steps == [4, 1, 1, 1, 1]  # the total: today, then one step per knob and round
    today, best = result["today"], result["suggested"]
    assert today["decisions"] == 6 and today["factors"] == {
        "loss_multiple": "1",
        "value_share": "1",
        "absolute EUR": "1",
    }
    assert today["feasible"] and best["feasible"]
    assert Decimal(best["expected_net_value"]) >= Decimal(today["expected_net_value"])
    assert result["trials"] <= 1 + 3 * 6
    for change in result["changes"]:
        assert change["today"] != change["suggested"]
    if not result["changes"]:
        assert result["notes"] == [
            "Today's caps earn the most of the settings tried within the pool."
        ]


def test_a_tight_pool_gets_caps_that_keep_within_it(app, client, auth):
    _log(client, auth)
    generous, _ = _suggest(app, "100000.00", rounds=1, factors=[Decimal("0.5"), Decimal("1")])
    projected = Decimal(generous["today"]["projected_spend"])
    # Fixes are never capped, so halving the caps saves a few percent here, not a fifth.
    limit = (projected * Decimal("0.97")).quantize(Decimal("0.01"))
    result, _ = _suggest(app, str(limit), rounds=1, factors=[Decimal("0.5"), Decimal("1")])
    assert not result["today"]["feasible"]
    assert result["notes"][0].startswith("Today's caps would exhaust the pool:")
    best = result["suggested"]
    assert best["feasible"], (result["today"], best)
    assert Decimal(best["projected_spend"]) <= limit
    assert best["skipped_for_pool"] == 0
    assert any(f == "0.5" for f in best["factors"].values())
    assert result["changes"]


def test_the_command_prints_today_beside_the_suggestion_and_writes_the_caps(
    app, client, auth, tmp_path
):
    _log(client, auth)
    set_pool(app, "emea", "100000.00")
    today = utcnow().date()
    out = tmp_path / "caps.yaml"
    with app.app_context():
        result = CliRunner().invoke(
            cli,
            [
                "budgets",
                "suggest-caps",
                "emea",
                "--currency",
                "eur",
                "--from",
                str(today - timedelta(days=1)),
                "--to",
                str(today + timedelta(days=1)),
                "--out",
                str(out),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert "pool emea EUR: 100000.00 per month" in result.output
        assert "expected net value" in result.output and "suggested" in result.output
        assert out.read_text().startswith("version:")
        missing = CliRunner().invoke(
            cli,
            [
                "budgets",
                "suggest-caps",
                "nobody",
                "--currency",
                "EUR",
                "--from",
                "2026-01-01",
                "--to",
                "2026-01-02",
            ],
        )
        assert missing.exit_code == 1 and "nobody has no EUR pool" in missing.output

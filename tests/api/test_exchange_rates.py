"""Exchange rates are a versioned document finance sets: audited, validated, used by training."""

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.store.tables import AuditEntry, ConfigVersion
from tests.conftest import row_count
from tests.factories import default_document
from training.simulator import FX_PER_USD


def test_the_seeded_rates_are_the_simulator_s_and_cover_every_default_currency(client, auth):
    """`remedy init` seeds the rates the hard-coded table held (that table is only this seed),
    and one for every other currency the default caps price (`remedy init`'s starter pools are
    a multiple of their ceilings), so that no decision of a fresh install is left out of the
    policy values for want of a rate."""
    response = client.get("/v1/exchange-rates", headers=auth("agent"))
    assert response.status_code == 200
    assert response.json["version"] == 1 and response.json["kind"] == "exchange_rates"
    per_usd = {c: float(r) for c, r in response.json["document"]["per_usd"].items()}
    assert {c: per_usd[c] for c in FX_PER_USD} == FX_PER_USD
    caps = default_document("caps")
    priced = set(caps["incident_caps"]["default"]["absolute"]) | set(
        caps["customer_window"]["limit"]
    )
    assert priced <= set(per_usd), priced - set(per_usd)


def test_finance_sets_the_rates_as_a_new_audited_version(app, client, auth):
    document = {"per_usd": {"USD": "1", "EUR": "0.95", "GBP": "0.8", "CHF": "0.88"}}
    response = client.put("/v1/exchange-rates", json=document, headers=auth("finance"))
    assert response.status_code == 200, response.json
    assert response.json["version"] == 2
    assert response.json["document"]["per_usd"]["CHF"] == "0.88"
    with db.database(app).unit_of_work() as session:
        entry = session.scalars(
            sa.select(AuditEntry).where(
                AuditEntry.entity == "exchange_rates", AuditEntry.entity_id == "2"
            )
        ).one()
        assert entry.action == "update"
        assert entry.before["per_usd"]["JPY"] == "150" and "JPY" not in entry.after["per_usd"]
        rates = ConfigService(session).exchange_rates()
    assert rates.version == 2
    assert rates.as_floats() == {"USD": 1.0, "EUR": 0.95, "GBP": 0.8, "CHF": 0.88}
    history = client.get("/v1/exchange-rates/history", headers=auth("finance")).json
    assert [v["version"] for v in history["versions"]] == [2, 1]


def test_only_finance_or_admin_sets_the_rates(client, auth):
    document = {"per_usd": {"USD": "1"}}
    assert client.put("/v1/exchange-rates", json=document, headers=auth("agent")).status_code == 403
    assert client.get("/v1/exchange-rates/history", headers=auth("agent")).status_code == 403
    assert client.put("/v1/exchange-rates", json=document, headers=auth("admin")).status_code == 200


@pytest.mark.parametrize(
    ("per_usd", "says"),
    [
        ({"EUR": "-0.9"}, "per_usd.EUR: the rate must lie in (0, 1000000]"),
        ({"EUR": "0"}, "per_usd.EUR: the rate must lie in (0, 1000000]"),
        ({"EUR": "abc"}, "per_usd.EUR: 'abc' is not a number"),
        ({"EUR": "NaN"}, "per_usd.EUR: the rate must lie in (0, 1000000]"),
        ({"eur": "0.9"}, "per_usd.eur: not a 3-letter ISO 4217 code in capitals"),
        ({"EUR": True}, "per_usd.EUR: the rate must be a decimal string"),
        ({"USD": "2"}, "per_usd.USD: a US dollar is worth exactly 1 US dollar"),
        ({}, "per_usd: a mapping of currency codes to rates is required"),
    ],
)
def test_bad_rates_are_refused_naming_the_field_and_nothing_changes(
    app, client, auth, per_usd, says
):
    before = row_count(app, ConfigVersion), row_count(app, AuditEntry)
    response = client.put("/v1/exchange-rates", json={"per_usd": per_usd}, headers=auth("finance"))
    assert response.status_code == 422, response.json
    assert response.json["errors"]["exchange_rates"] == [says]
    assert (row_count(app, ConfigVersion), row_count(app, AuditEntry)) == before

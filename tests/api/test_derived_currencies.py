"""A currency with an exchange rate is decided in: its missing amounts come from the base's."""

from decimal import Decimal

from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.services.derived_currencies import derive_currencies
from tests.conftest import incident_payload
from tests.factories import default_document


def recommend(client, auth, **incident):
    body = {"incident": incident_payload(**incident), "team": "emea", "limit": 10}
    return client.post("/v1/recommendations", json=body, headers=auth("agent"))


def with_rates(client, auth, **extra: str) -> None:
    document = default_document("exchange_rates")
    document["per_usd"] = {**document["per_usd"], **extra}
    response = client.put("/v1/exchange-rates", json=document, headers=auth("finance"))
    assert response.status_code == 200, response.json


def test_a_currency_with_neither_amounts_nor_a_rate_is_422_naming_the_field(client, auth):
    refused = recommend(client, auth, currency="KRW", customer_value="1500000", loss_amount="80000")
    assert refused.status_code == 422
    assert refused.json["errors"]["incident.currency"] == ["no caps are configured for KRW"]


def test_a_rated_currency_decides_with_amounts_derived_from_the_dollar(app, client, auth):
    with_rates(client, auth, KRW="1400", BRL="5.5")
    answer = recommend(
        client, auth, currency="KRW", customer_value="1500000", loss_amount="80000", severity=4
    )
    assert answer.status_code == 201, answer.json
    body = answer.json
    assert body["plans"] and body["currency"] == "KRW"
    for plan in body["plans"]:
        assert Decimal(plan["total_cost"]) == Decimal(plan["total_cost"]).to_integral_value()
    with db.database(app).unit_of_work() as session:
        active = ConfigService(session).load_active()
    usd_cap = Decimal(default_document("caps")["incident_caps"]["default"]["absolute"]["USD"])
    assert active.caps.default["absolute"]["KRW"] == usd_cap * 1400  # no minor unit in KRW
    manager = default_document("catalog")["staff_rates"]["manager"]
    assert active.catalog.staff_rates["manager"]["KRW"] == Decimal(manager["USD"]) * 1400
    brl = recommend(client, auth, currency="BRL", customer_value="900.00", loss_amount="45.00")
    assert brl.status_code == 201, brl.json


def test_derivation_fills_gaps_only_and_rounds_to_the_minor_unit():
    documents = {
        "caps": {"fix_ceiling": {"USD": "10.05", "EUR": "9.00"}, "contact_capacity": {"agent": 1}},
        "catalog": {"items": [{"min_value": {"USD": "10.00"}}]},
    }
    rates = {
        "USD": Decimal(1),
        "EUR": Decimal("0.92"),
        "BHD": Decimal("0.3765"),
        "JPY": Decimal(150),
    }
    derived = derive_currencies(documents, rates)
    ceiling = derived["caps"]["fix_ceiling"]
    assert ceiling["EUR"] == "9.00"  # finance's own amount stays
    assert ceiling["BHD"] == "3.784"  # 10.05 x 0.3765 = 3.783825 -> three decimals, half up
    assert ceiling["JPY"] == "1508"  # 1507.5 -> 1508
    assert derived["caps"]["contact_capacity"] == {"agent": 1}  # not money by currency
    assert derived["catalog"]["items"][0]["min_value"]["JPY"] == "1500"
    assert "BHD" not in documents["caps"]["fix_ceiling"]  # the stored document is untouched

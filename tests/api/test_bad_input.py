"""Every bad request gets a 4xx JSON envelope naming the field, and nothing is written."""

import pytest

from remedy.store.tables import Decision
from tests.conftest import incident_payload, row_count


def with_incident(**overrides):
    return {"incident": incident_payload(**overrides)}


def without(field):
    incident = incident_payload()
    del incident[field]
    return {"incident": incident}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (without("severity"), "incident.severity"),
        (without("customer_id"), "incident.customer_id"),
        (without("loss_amount"), "incident.loss_amount"),
        (with_incident(severity=0), "incident.severity"),
        (with_incident(severity=9), "incident.severity"),
        (with_incident(severity="3"), "incident.severity"),
        (with_incident(severity=3.5), "incident.severity"),
        (with_incident(loss_amount="-5.00"), "incident.loss_amount"),
        (with_incident(loss_amount="-0.01"), "incident.loss_amount"),  # 0 is valid: nothing lost
        (with_incident(loss_amount="1e12"), "incident.loss_amount"),
        (with_incident(loss_amount="NaN"), "incident.loss_amount"),
        (with_incident(loss_amount="12.345"), "incident.loss_amount"),
        (with_incident(loss_amount=12.5), "incident.loss_amount"),
        (with_incident(loss_amount="twelve"), "incident.loss_amount"),
        (with_incident(customer_value="-1"), "incident.customer_value"),
        (with_incident(currency="EUX"), "incident.currency"),
        (with_incident(currency="eur"), "incident.currency"),
        (with_incident(fault_type="god"), "incident.fault_type"),
        (with_incident(channel="pigeon"), "incident.channel"),
        (with_incident(locale="not a locale"), "incident.locale"),
        (with_incident(shoe_size=42), "incident.shoe_size"),
        ({**with_incident(), "colour": "red"}, "colour"),
        ({**with_incident(), "limit": 0}, "limit"),
        ({**with_incident(), "limit": 11}, "limit"),
        ({**with_incident(), "team": "a b c"}, "team"),
        ({"incident": "not an object"}, "incident"),
        ({}, "incident"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(app, client, auth, body, field):
    response = client.post("/v1/recommendations", json=body, headers=auth())
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert response.json["code"] == 422
    assert row_count(app, Decision) == 0


def test_currency_without_caps_is_422_on_the_currency(app, client, auth):
    response = client.post(
        "/v1/recommendations", json=with_incident(currency="BRL"), headers=auth()
    )
    assert response.status_code == 422
    assert "incident.currency" in response.json["errors"]
    assert row_count(app, Decision) == 0


def test_malformed_json_is_400(app, client, auth):
    response = client.post(
        "/v1/recommendations",
        data='{"incident": {',
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["errors"]
    assert row_count(app, Decision) == 0


def test_wrong_content_type_is_415(app, client, auth):
    response = client.post(
        "/v1/recommendations",
        data="severity=3",
        headers={**auth(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert "Content-Type" in response.json["errors"]


def test_body_of_megabytes_is_413(app, client, auth):
    huge = '{"incident": {"customer_id": "' + "x" * (3 * 1024 * 1024) + '"}}'
    response = client.post(
        "/v1/recommendations", data=huge, headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert row_count(app, Decision) == 0


def test_unknown_route_and_method_are_json(client, auth):
    assert client.get("/v1/nothing", headers=auth()).json["code"] == 404
    response = client.delete("/v1/recommendations", headers=auth())
    assert response.status_code == 405 and response.json["code"] == 405

"""A configuration is tried before it is accepted: PUT /v1/caps, /v1/rules and /v1/catalog decide
recent and synthetic incidents with the proposal and refuse one whose decisions raise."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import AuditEntry, ConfigVersion
from tests.conftest import incident_payload, row_count
from tests.factories import default_document

# Passes every load-time check (its probes are all the company's fault), but divides by a
# customer value of 0, which the API accepts, whenever the customer was at fault.
DIVIDING_RULE = {
    "id": "big-loss-for-the-value",
    "description": "customer-caused losses above their yearly value get no gift",
    "when": 'fault_type == "customer" and loss_amount / customer_value > 1',
    "forbid": {"kinds": ["gift"]},
}


def _rules_with(rule):
    document = default_document("rules")
    document["rules"].append(rule)
    return document


def test_rules_that_break_deciding_are_refused_naming_the_incident(app, client, auth):
    before = row_count(app, ConfigVersion)
    answer = client.put("/v1/rules", json=_rules_with(DIVIDING_RULE), headers=auth("admin"))
    assert answer.status_code == 422, answer.json
    message = answer.json["errors"]["rules"][0]
    assert message.startswith("the proposed rules document fails deciding a synthetic incident (")
    assert "fault customer" in message and "customer value 0" in message
    assert "division by zero" in message
    assert row_count(app, ConfigVersion) == before
    # Nothing changed: a customer-caused incident with no recorded value is still decided.
    incident = incident_payload(fault_type="customer", customer_value="0")
    decided = client.post("/v1/recommendations", json={"incident": incident}, headers=auth())
    assert decided.status_code == 201, decided.json
    assert decided.json["versions"]["rules"] == "1"


def test_a_logged_incident_that_would_break_is_named_by_its_decision(app, client, auth):
    # Logged incidents are tried first: the first to fail is named by its decision's id.
    caps = default_document("caps")
    caps["incident_caps"]["default"]["absolute"]["JPY"] = "5000"
    caps["approvals"]["agent_up_to"]["JPY"] = "20000"
    assert client.put("/v1/caps", json=caps, headers=auth("finance")).status_code == 200
    incident = incident_payload(
        fault_type="customer", customer_value="0", currency="JPY", loss_amount="900"
    )
    decided = client.post("/v1/recommendations", json={"incident": incident}, headers=auth())
    assert decided.status_code == 201, decided.json
    rule = {
        **DIVIDING_RULE,
        "when": 'currency == "JPY" and loss_amount / customer_value > 1',
    }
    answer = client.put("/v1/rules", json=_rules_with(rule), headers=auth("admin"))
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"]["rules"] == [
        f"the proposed rules document fails deciding the incident of decision "
        f"{decided.json['decision_id']}: ArithmeticError: arithmetic error: division by zero"
    ]


def test_a_good_configuration_is_tried_accepted_and_audited(app, client, auth):
    for n in range(3):  # a few logged incidents to try it on
        incident = incident_payload(customer_id=f"c-{n}", severity=n + 2)
        assert (
            client.post(
                "/v1/recommendations", json={"incident": incident}, headers=auth()
            ).status_code
            == 201
        )
    rule = {**DIVIDING_RULE, "when": 'fault_type == "customer" and loss_amount > customer_value'}
    answer = client.put("/v1/rules", json=_rules_with(rule), headers=auth("admin"))
    assert answer.status_code == 200, answer.json
    assert answer.json["version"] == 2
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "4"
    assert client.put("/v1/caps", json=caps, headers=auth("finance")).status_code == 200
    catalog = default_document("catalog")
    catalog["items"][1]["labels"]["en"] = "A small present {with braces}"
    assert client.put("/v1/catalog", json=catalog, headers=auth("admin")).status_code == 200
    with db.database(app).unit_of_work() as session:
        audited = session.execute(
            sa.select(AuditEntry.entity, AuditEntry.entity_id).where(
                AuditEntry.entity.in_(("rules", "caps", "catalog"))
            )
        ).all()
    assert {("rules", "2"), ("caps", "2"), ("catalog", "2")} <= set(audited)
    decided = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(fault_type="customer", customer_value="10.00")},
        headers=auth(),
    ).json
    assert "big-loss-for-the-value" in decided["fired_rules"]
    assert decided["versions"] == {**decided["versions"], "rules": "2", "caps": "2", "catalog": "2"}


def _catalog_with_gifts(count: int, audience: str = "customer"):
    document = default_document("catalog")
    for n in range(count):
        document["items"].append(
            {
                "id": f"extra_gift_{n}",
                "kind": "gift",
                "audience": audience,
                "labels": {"en": f"Extra gift {n}"},
                "value": {"basis": "loss_multiple", "factor": "1"},
                "cost": {"basis": "value_fraction", "factor": "0.4"},
            }
        )
    return document


def test_a_catalog_whose_plan_space_is_too_large_is_refused_before_its_trial(app, client, auth):
    """The hardening issue, finding 3: 60 extra items made the trial run 69 s and every
    recommendation after it ten times slower; now the plan space is counted first."""
    before = row_count(app, ConfigVersion)
    answer = client.put("/v1/catalog", json=_catalog_with_gifts(60), headers=auth("admin"))
    assert answer.status_code == 422, answer.json
    message = answer.json["errors"]["catalog"][0]
    assert "enumerate up to" in message and "more than 2000" in message
    assert row_count(app, ConfigVersion) == before
    caps = default_document("caps")
    caps["max_extras"] = 4  # the default catalog's space with four extras: within the bound
    assert client.put("/v1/caps", json=caps, headers=auth("finance")).status_code == 200


@pytest.mark.parametrize("app", [{"MAX_PLANS": 100}], indirect=True)
def test_the_bound_is_configured_and_names_the_document_that_crosses_it(app, client, auth):
    caps = default_document("caps")
    answer = client.put("/v1/caps", json=caps, headers=auth("finance"))
    assert answer.status_code == 422 and "more than 100" in answer.json["errors"]["caps"][0]


@pytest.mark.parametrize("app", [{"TRIAL_MS_PER_DECISION": 0.001}], indirect=True)
def test_a_document_whose_decisions_cost_more_than_the_budget_is_refused(app, client, auth):
    """The trial checks cost as well as errors (hardening finding 3): decisions averaging more
    CPU than REMEDY_TRIAL_MS_PER_DECISION refuse the document, naming it and the figure, and
    nothing is stored. (A budget of 1 microsecond: any real decision costs more.)"""
    before = row_count(app, ConfigVersion)
    answer = client.put("/v1/caps", json=default_document("caps"), headers=auth("finance"))
    assert answer.status_code == 422, answer.json
    message = answer.json["errors"]["caps"][0]
    assert "ms of CPU" in message and "more than 0.001 ms" in message, message
    assert "REMEDY_TRIAL_MS_PER_DECISION" in message
    assert row_count(app, ConfigVersion) == before


def test_the_trial_stops_once_it_has_spent_what_the_budget_allows(app):
    """A slow document cannot hold the request: the trial stops as soon as its CPU passes the
    budget for the whole trial (here after one decision)."""
    from remedy.errors import InvalidInput
    from remedy.services import app_services
    from remedy.services.config_trial import ConfigTrial

    with app.app_context(), db.database(app).unit_of_work() as session:
        engine = app_services.engines(app).engine(session)
        trial = ConfigTrial(session, recent=0, max_ms_per_decision=1e-9)
        with pytest.raises(InvalidInput, match="ms of CPU"):
            trial.run(engine, "catalog")
        tried = []
        original = trial.check_cost
        trial.check_cost = lambda kind, spent, n: tried.append(n) or original(kind, spent, n)
        with pytest.raises(InvalidInput):
            trial.run(engine, "catalog")
        assert tried == [1]  # one decision, then the budget was spent

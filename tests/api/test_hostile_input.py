"""No input can stall the service or break every decision (the hardening issue), on both
databases: each probe is a 4xx in the envelope naming the field, writes nothing, and holds the
worker for well under a second of CPU (time.process_time around the call: a bound, not a
benchmark). Here amounts, numbers, rules, booleans and date-times; bodies, headers and text in
test_hostile_bodies.py."""

from __future__ import annotations

import pytest

from remedy.extensions import db
from remedy.store.tables import AuditEntry, BudgetPool, ConfigVersion, Decision
from tests.api.hostile import GIFT, refused
from tests.conftest import incident_payload, row_count
from tests.factories import decision_row, default_document, set_pool, store

# Money that must never be taken: exponents (the DoS: "1E+999999" took minutes to turn into
# minor units), out-of-range magnitudes, non-ASCII digits, whitespace, separators.
HOSTILE_MONEY = [
    "1E+999999",
    "1e400",
    "9e18",
    "9000000000000000000",
    "١٢٣",
    "１２",
    " 12.50 ",
    "1_000",
    "NaN",
    10**30,
]


def reserved_decision(app, client, auth, currency: str, cost: str) -> str:
    """Store a decision in `currency` and accept its plan, so it can be fulfilled."""
    set_pool(app, "emea", "100000" if currency == "JPY" else "1000.00", currency)
    (decision_id,) = store(app, decision_row({GIFT: (cost, False)}, currency=currency))
    accepted = client.post(
        f"/v1/decisions/{decision_id}/accept", json={"plan_id": GIFT}, headers=auth()
    )
    assert accepted.status_code == 200, accepted.json
    return decision_id


# 1, 7, 8: actual_cost


@pytest.mark.parametrize("currency", ["JPY", "EUR"])
@pytest.mark.parametrize("amount", HOSTILE_MONEY + ["10000000000.00", "12.345"])
def test_hostile_actual_cost_is_422_quickly_and_never_retryable(
    app, client, auth, send, currency, amount
):
    if currency == "JPY" and amount == "12.345":
        amount = "12.5"
    decision_id = reserved_decision(
        app, client, auth, currency, "1000" if currency == "JPY" else "10.00"
    )
    path = f"/v1/decisions/{decision_id}/fulfil"
    response = send("POST", path, {"actual_cost": amount}, headers={"Idempotency-Key": "k"})
    refused(response, "actual_cost")
    with db.database(app).unit_of_work() as session:
        assert session.get(Decision, decision_id).status == "reserved"


# 4: caps that would break every recommendation


@pytest.mark.parametrize("amount", HOSTILE_MONEY + ["300.001"])
def test_caps_with_hostile_amounts_are_refused_and_recommendations_keep_working(app, send, amount):
    caps = default_document("caps")
    caps["incident_caps"]["default"]["absolute"]["EUR"] = amount
    before = row_count(app, ConfigVersion), row_count(app, AuditEntry)
    response = send("PUT", "/v1/caps", caps, role="finance")
    refused(response, "caps")
    assert "incident_caps.default.absolute.EUR" in response.json["message"]
    assert (row_count(app, ConfigVersion), row_count(app, AuditEntry)) == before
    recommended = send("POST", "/v1/recommendations", {"incident": incident_payload()})
    assert recommended.status_code == 201, recommended.json


@pytest.mark.parametrize(
    ("place", "amount"),
    [
        (("approvals", "agent_up_to", "EUR"), "1E+999999"),
        (("customer_window", "limit", "JPY"), "1E+999999"),
        (("incident_caps", "default", "loss_multiple"), "1e400"),
        (("pacing", "strength"), "1E-999999"),
    ],
)
def test_every_number_of_the_caps_is_read_by_the_one_parser(app, send, place, amount):
    caps = default_document("caps")
    target = caps
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = amount
    response = send("PUT", "/v1/caps", caps, role="finance")
    refused(response, "caps")
    assert ".".join(place) in response.json["message"]


@pytest.mark.parametrize(
    "when",
    [
        "loss_amount ** 99999999 > 1",
        "1 << 99999999 > 1",  # folded while parsing: minutes of CPU
        "1 << 1000000000000000000 > 1",  # MemoryError while parsing
        "loss_amount / customer_value > 0.1",  # customer_value may be 0
        "$range(100000000).length > 1",
        'category =~ "(a+)+$"',
        "(" * 200 + "severity" + ")" * 200 + " > 1",
        " + ".join(["severity"] * 300) + " > 1",
    ],
)
def test_rules_that_could_stall_or_fail_every_decision_are_refused_by_id(app, send, when):
    rules = default_document("rules")
    rule_id = rules["rules"][0]["id"]
    rules["rules"][0]["when"] = when
    before = row_count(app, ConfigVersion)
    response = send("PUT", "/v1/rules", rules, role="admin")
    refused(response, "rules")
    assert rule_id in response.json["message"]
    assert row_count(app, ConfigVersion) == before
    recommended = send("POST", "/v1/recommendations", {"incident": incident_payload()})
    assert recommended.status_code == 201, recommended.json


@pytest.mark.parametrize(
    ("place", "amount"),
    [
        (("staff_rates", "agent", "EUR"), "1E+999999"),
        (("items", 1, "value", "amounts", "EUR"), "１２"),
    ],
)
def test_catalog_amounts_are_read_by_the_one_parser(app, send, place, amount):
    document = default_document("catalog")
    fixed = next(i for i in document["items"] if i["value"]["basis"] == "fixed")
    if place[0] == "items":
        fixed["value"]["amounts"]["EUR"] = amount
    else:
        document["staff_rates"]["agent"]["EUR"] = amount
    response = send("PUT", "/v1/catalog", document, role="admin")
    refused(response, "catalog")


# 1: pools and what-if


@pytest.mark.parametrize("amount", HOSTILE_MONEY + ["1000000000000"])
def test_pool_limits_are_read_by_the_one_parser(app, send, amount):
    response = send(
        "PUT",
        "/v1/budgets/emea",
        {"period": "month", "limit": amount, "currency": "JPY"},
        role="finance",
    )
    refused(response, "limit")
    assert row_count(app, BudgetPool) == 0


@pytest.mark.parametrize("amount", HOSTILE_MONEY)
def test_simulate_refuses_hostile_pools_sweeps_and_caps(app, send, amount):
    body = {"from": "2026-11-01", "to": "2026-12-01"}
    pools = [{"team": "default", "currency": "JPY", "period": "month", "limit": amount}]
    refused(
        send("POST", "/v1/budgets/simulate", {**body, "pools": pools}, role="finance"),
        "pools.0.limit",
    )
    sweep = {"path": "incident_caps.default.absolute.JPY", "values": ["1000", str(amount)]}
    refused(
        send("POST", "/v1/budgets/simulate", {**body, "sweep": sweep}, role="finance"),
        "sweep.values.1",
    )
    caps = default_document("caps")
    caps["incident_caps"]["default"]["absolute"]["JPY"] = amount
    response = send("POST", "/v1/budgets/simulate", {**body, "caps": caps}, role="finance")
    assert response.status_code == 422, response.json
    assert "incident_caps.default.absolute.JPY" in response.json["message"]


def test_sweep_values_that_are_not_plain_decimals_are_refused(send):
    body = {"from": "2026-11-01", "to": "2026-12-01"}
    for value in ("²", "--5", "9" * 5000):
        sweep = {"path": "contact_capacity.manager", "values": [value]}
        response = send("POST", "/v1/budgets/simulate", {**body, "sweep": sweep}, role="finance")
        refused(response, "sweep.values.0")


# 9: lenient parsing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"loss_amount": "١٢٣"}, "incident.loss_amount"),
        ({"customer_value": "１２００"}, "incident.customer_value"),
        ({"loss_amount": " 60.00"}, "incident.loss_amount"),
        ({"loss_amount": "6e1"}, "incident.loss_amount"),
        ({"loss_amount": "60.001"}, "incident.loss_amount"),
        ({"currency": "JPY", "loss_amount": "60.00"}, "incident.loss_amount"),
    ],
)
def test_recommendations_take_only_plain_money(app, send, change, field):
    response = send("POST", "/v1/recommendations", {"incident": incident_payload(**change)})
    refused(response, field)
    assert row_count(app, Decision) == 0


@pytest.mark.parametrize("value", [0, 1, "yes", "false", None])
def test_recommendations_take_only_json_booleans(app, send, value):
    body = {"incident": incident_payload(churn_threat=value)}
    refused(send("POST", "/v1/recommendations", body), "incident.churn_threat")
    assert row_count(app, Decision) == 0


@pytest.mark.parametrize("retained", [1, 0, 0.0, "true"])
def test_outcomes_take_only_json_booleans(send, retained):
    body = {"decision_id": "d", "retained": retained, "observed_at": "2026-11-02T10:00:00Z"}
    refused(send("POST", "/v1/outcomes", body), "retained")


# 7: date-times that leave datetime's range once moved to UTC


@pytest.mark.parametrize(
    "moment",
    [
        "9999-12-31T23:59:59+14:00",
        "9999-12-31T23:59:59-14:00",
        "0001-01-01T00:49:56+11:16",
        "1969-12-31T23:59:59Z",
    ],
)
def test_date_times_out_of_range_are_422_naming_the_field(app, send, moment):
    pool = {"period": "month", "limit": "100.00", "currency": "EUR", "effective_at": moment}
    refused(send("PUT", "/v1/budgets/emea", pool, role="finance"), "effective_at")
    assert row_count(app, BudgetPool) == 0
    caps = {**default_document("caps"), "effective_at": moment}
    response = send("PUT", "/v1/caps", caps, role="finance")
    refused(response, "caps")
    assert "effective_at" in response.json["message"]
    body = {"from": moment, "to": "2026-12-01"}
    refused(send("POST", "/v1/budgets/simulate", body, role="finance"), "from")
    query = {"from": "2026-11-01", "to": moment}
    refused(send("GET", "/v1/reports/spend", role="finance", query_string=query), "to")
    outcome = {"decision_id": "d", "retained": True, "observed_at": moment}
    refused(send("POST", "/v1/outcomes", outcome), "observed_at")

"""No input can stall the service or break every decision (the hardening issue), on both
databases: each probe is a 4xx in the envelope naming the field, writes nothing, and holds the
worker for well under a second of CPU (time.process_time around the call: a bound, not a
benchmark)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from remedy.extensions import db, mark_public
from remedy.store.tables import AuditEntry, BudgetPool, ConfigVersion, Decision
from tests.conftest import incident_payload, row_count
from tests.factories import decision_row, default_document, set_pool, store

CPU_BOUND = 1.0  # seconds of CPU one hostile request may take
GIFT = "apology+gift_1x"

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


@pytest.fixture
def send(client, auth):
    """Send a request as a role; assert it took less than CPU_BOUND of CPU; return it."""

    def call(method: str, path: str, body: Any = None, role: str = "agent", **kwargs: Any):
        headers = {**auth(role), **kwargs.pop("headers", {})}
        started = time.process_time()
        response = client.open(path, method=method, json=body, headers=headers, **kwargs)
        spent = time.process_time() - started
        assert spent < CPU_BOUND, f"{method} {path} held the worker for {spent:.2f} s of CPU"
        return response

    return call


def refused(response, field: str, status: int = 422) -> None:
    """Assert an error in the envelope that names `field` (and is never retryable)."""
    assert response.status_code == status, response.json
    assert response.json["code"] == status
    assert field in response.json["errors"], response.json
    assert "Retry-After" not in response.headers


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


# 7: bodies nested deep enough to blow the parser's recursion, still within the size limit


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        '{"incident": ' * 1000 + "1" + "}" * 1000,
        "[" * 20_000,  # unbalanced: json.loads recurses before it notices
        '{"a": "' + "[" * 100 + '", "b": ' + "[" * 33 + "]" * 33 + "}",
    ],
)
@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/v1/recommendations", "agent"),
        ("PUT", "/v1/caps", "finance"),
        ("POST", "/v1/budgets/simulate", "finance"),
        ("PUT", "/v1/budgets/emea", "finance"),
        ("POST", "/v1/decisions/some-id/fulfil", "agent"),
    ],
)
def test_deeply_nested_json_is_400_before_any_parser_recurses(send, method, path, role, body):
    response = send(
        method, path, role=role, data=body, headers={"Content-Type": "application/json"}
    )
    refused(response, "_request", status=400)
    assert "deeper than 32 levels" in response.json["message"]


def test_nesting_up_to_the_limit_is_parsed_as_usual(send):
    nested = {"incident": incident_payload(customer_id="c", category="x")}
    inner: Any = "deep"
    for _ in range(29):  # 32 levels with the body, "incident" and "external_id"
        inner = [inner]
    nested["incident"]["external_id"] = inner
    response = send("POST", "/v1/recommendations", nested)
    refused(response, "incident.external_id")  # the schema's answer, not the guard's
    brackets = {"incident": incident_payload(customer_id="[{" * 60)}  # in a string: no nesting
    assert send("POST", "/v1/recommendations", brackets).status_code == 201


def test_a_request_line_too_long_is_414_in_the_envelope(send):
    response = send("GET", "/v1/budgets?" + "a=1&" * 1100)
    assert response.status_code == 414
    assert response.json["code"] == 414 and response.json["errors"]["_request"]


# 5: the rate limit counts per API key, however its header is written


@pytest.mark.parametrize("app", [{"RATE_LIMIT": "3/minute"}], indirect=True)
def test_one_key_has_one_budget_however_the_header_is_spelled(client, keys):
    key = keys["agent"]
    spellings = [f"Bearer {key}", f"Bearer  {key}", f"bearer {key}", f"BEARER {key} "]
    answers = [client.get("/v1/caps", headers={"Authorization": h}) for h in spellings]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].json["code"] == 429 and "Retry-After" in answers[-1].headers
    other = client.get("/v1/caps", headers={"Authorization": f"Bearer {keys['finance']}"})
    assert other.status_code == 200  # another key has its own budget


@pytest.mark.parametrize("app", [{"RATE_LIMIT": "3/minute"}], indirect=True)
def test_unknown_keys_share_their_address_budget(client, keys):
    answers = [
        client.get("/v1/caps", headers={"Authorization": f"Bearer rmd_nope{n}_x"}) for n in range(4)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]


# 6: Idempotency-Key fingerprints the body however it was sent


def chunked(client, auth, path: str, body: dict[str, Any], key: str):
    """POST `body` with Transfer-Encoding: chunked (no Content-Length), as gunicorn passes it."""
    data = json.dumps(body).encode()
    return client.post(
        path,
        input_stream=io.BytesIO(data),
        headers={
            **auth(),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
            "Idempotency-Key": key,
        },
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_is_part_of_the_idempotency_fingerprint(app, client, auth):
    set_pool(app, "emea", "1000.00")
    other = "apology+credit"
    (decision_id,) = store(app, decision_row({GIFT: ("10.00", False), other: ("27.00", False)}))
    path = f"/v1/decisions/{decision_id}/accept"
    first = chunked(client, auth, path, {"plan_id": GIFT}, "chunk-1")
    assert first.status_code == 200, first.json
    assert first.json["plan_id"] == GIFT
    again = chunked(client, auth, path, {"plan_id": GIFT}, "chunk-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    changed = chunked(client, auth, path, {"plan_id": other}, "chunk-1")
    refused(changed, "Idempotency-Key")
    plain = client.post(
        path, json={"plan_id": GIFT}, headers={**auth(), "Idempotency-Key": "chunk-1"}
    )
    assert plain.status_code == 200 and plain.headers["Idempotent-Replayed"] == "true"


# 8: a value the database cannot hold is the caller's 422, never a retryable 503


@pytest.mark.parametrize("flush", [False, True], ids=["at-commit", "in-the-view"])
def test_a_value_out_of_range_for_storage_is_422_not_503(app, flush):
    """Amounts are bounded before they reach the database; should any other value slip past
    (here a pool limit of 10**19 minor units written directly), it is a 422, not a 503 with
    Retry-After that a client would retry forever."""
    from remedy.extensions import session
    from remedy.store.tables import utcnow

    @app.post("/test-overflow")
    def overflow():  # type: ignore[no-untyped-def]
        pool = BudgetPool(
            team="t",
            currency="EUR",
            version=1,
            period="month",
            limit_minor=10**19,
            effective_at=utcnow(),
            created_at=utcnow(),
            created_by="test",
        )
        session().add(pool)
        if flush:
            session().flush()
        return {"written": True}

    mark_public(app, "overflow")  # this app only: a fresh one is made for every test
    response = app.test_client().post("/test-overflow")
    refused(response, "_request")
    assert row_count(app, BudgetPool) == 0


def test_a_chunked_body_over_the_size_limit_is_413(client, auth):
    """Without a Content-Length the limit still holds while the body is read."""
    data = b'{"incident": {"customer_id": "' + b"x" * (200 * 1024) + b'"}}'
    response = client.post(
        "/v1/recommendations",
        input_stream=io.BytesIO(data),
        headers={**auth(), "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413, response.json


# 6: text no view can use: lone surrogates and integers past Python's conversion limit


def raw_json(send, method: str, path: str, text: str, role: str = "agent"):
    """Send `text` as the JSON body, byte for byte (escapes kept as the client wrote them)."""
    return send(method, path, role=role, data=text, headers={"Content-Type": "application/json"})


def with_raw(document: Any, marker: str, raw: str) -> str:
    """`document` as JSON text with the string `marker` replaced by the raw JSON `raw`."""
    return json.dumps(document).replace(json.dumps(marker), raw)


@pytest.mark.parametrize(
    ("method", "path", "role", "document", "field"),
    [
        (
            "POST",
            "/v1/recommendations",
            "agent",
            {"incident": incident_payload(customer_id="MARK")},
            "incident.customer_id",
        ),
        (
            "POST",
            "/v1/recommendations",
            "agent",
            {"incident": incident_payload(), "team": "MARK"},
            "team",
        ),
        (
            "POST",
            "/v1/recommendations",
            "agent",
            {"incident": incident_payload(external_id="MARK")},
            "incident.external_id",
        ),
        (
            "PUT",
            "/v1/budgets/emea",
            "finance",
            {"currency": "EUR", "period": "MARK", "limit": "10.00"},
            "period",
        ),
        ("POST", "/v1/keys", "admin", {"role": "agent", "label": "MARK"}, "label"),
    ],
)
@pytest.mark.parametrize("escape", ['"\\ud800"', '"a\\udfffb"', '"\\ud83d\\ud83d"'])
def test_a_lone_surrogate_in_any_string_is_422_naming_the_field(
    app, send, method, path, role, document, field, escape
):
    before = row_count(app, Decision), row_count(app, AuditEntry), row_count(app, BudgetPool)
    response = raw_json(send, method, path, with_raw(document, "MARK", escape), role=role)
    refused(response, field)
    assert "surrogate" in response.json["errors"][field][0]
    assert (row_count(app, Decision), row_count(app, AuditEntry), row_count(app, BudgetPool)) == (
        before
    )


def test_a_surrogate_pair_is_a_character_and_a_lone_one_in_a_key_is_named(send):
    paired = with_raw(
        {"incident": incident_payload(customer_id="MARK")}, "MARK", '"\\ud83d\\ude00"'
    )
    assert raw_json(send, "POST", "/v1/recommendations", paired).status_code == 201
    key = '{"incident": ' + json.dumps(incident_payload())[:-1] + ', "\\udc00x": 1}}'
    response = raw_json(send, "POST", "/v1/recommendations", key)
    refused(response, "incident.\\udc00x")


@pytest.mark.parametrize("digits", [101, 4301, 60_000])
@pytest.mark.parametrize(
    ("method", "path", "role", "document", "field"),
    [
        (
            "POST",
            "/v1/recommendations",
            "agent",
            {"incident": incident_payload(), "limit": "MARK"},
            "limit",
        ),
        (
            "POST",
            "/v1/recommendations",
            "agent",
            {"incident": incident_payload(severity="MARK")},
            "incident.severity",
        ),
        (
            "POST",
            "/v1/outcomes",
            "agent",
            {"decision_id": "d", "retained": True, "referrals": "MARK"},
            "referrals",
        ),
    ],
)
def test_an_integer_too_long_to_convert_is_422_naming_the_field(
    app, send, method, path, role, document, field, digits
):
    before = row_count(app, Decision)
    response = raw_json(send, method, path, with_raw(document, "MARK", "-" + "9" * digits))
    refused(response, field)
    assert f"at most 100 digits (this one has {digits})" in response.json["errors"][field][0]
    assert row_count(app, Decision) == before


def test_integers_up_to_the_limit_reach_the_schema(send):
    response = raw_json(
        send,
        "POST",
        "/v1/recommendations",
        with_raw({"incident": incident_payload(), "limit": "MARK"}, "MARK", "9" * 100),
    )
    refused(response, "limit")  # the schema's own range, not the guard's
    assert "digits" not in response.json["errors"]["limit"][0]


def test_a_413_closes_the_connection(client, auth):
    response = client.post(
        "/v1/recommendations",
        data=b"{" + b" " * (70 * 1024) + b"}",
        headers={**auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"


def _json_operations(spec: dict[str, Any]):
    """(method, path, property, type) for each top-level property of every JSON request body."""
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("post", "put", "patch"):
                continue  # path-level `parameters`, reads
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            schema = body["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            for name, prop in schema.get("properties", {}).items():
                yield method.upper(), path.replace("{", "").replace("}", ""), name, prop.get("type")


def test_every_operation_refuses_surrogates_and_long_integers_naming_the_field(client, keys):
    """Every JSON body of /openapi.json, each top-level field: a lone surrogate (strings) or a
    5,000-digit integer (the rest) is 422 naming the field, never a 500."""
    spec = client.get("/openapi.json").json
    headers = {"Authorization": f"Bearer {keys['admin']}", "Content-Type": "application/json"}
    probed = 0
    for method, path, name, kind in _json_operations(spec):
        raw = '"\\ud800"' if kind == "string" else "9" * 5000
        body = "{" + json.dumps(name) + ": " + raw + "}"
        response = client.open(path, method=method, data=body, headers=headers)
        assert response.status_code == 422, (method, path, name, response.json)
        assert name in response.json["errors"], (method, path, name, response.json)
        probed += 1
    assert probed >= 30, probed  # 37 fields when written

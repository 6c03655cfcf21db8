"""No body, header or text can stall the service or break a request (the hardening issue), on
both databases: nesting too deep, request lines too long, a key spelt another way, chunked
bodies, values the database cannot hold, lone surrogates and integers too long to convert are
each a 4xx in the envelope naming the field, within the CPU bound of tests/api/hostile.py."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from remedy.extensions import mark_public
from remedy.store.tables import AuditEntry, BudgetPool, Decision
from tests.api.hostile import GIFT, refused
from tests.conftest import incident_payload, row_count
from tests.factories import decision_row, set_pool, store

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

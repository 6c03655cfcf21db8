"""OpenAPI and docs are public and describe every route; health needs no key."""


def test_openapi_lists_routes_and_bearer_security(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/v1/recommendations",
        "/v1/decisions/{decision_id}",
        "/v1/catalog",
        "/v1/rules",
        "/v1/caps",
        "/v1/exchange-rates",
        "/v1/keys",
        "/v1/approvals",
        "/healthz",
    ):
        assert path in spec["paths"], path
    # Every operation says who may call it; the lead role is documented and can be minted.
    approve = spec["paths"]["/v1/decisions/{decision_id}/approve"]["post"]["description"]
    assert approve.endswith("Roles: lead, finance; admin may do everything.")
    accept = spec["paths"]["/v1/decisions/{decision_id}/accept"]["post"]["description"]
    assert accept.endswith("Roles: agent and lead (what an agent may); admin may do everything.")
    assert "lead" in spec["components"]["schemas"]["KeyRequest"]["properties"]["role"]["enum"]
    assert "approval" in spec["components"]["schemas"]["Decision"]["properties"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    incident = spec["components"]["schemas"]["Incident"]
    assert set(incident["required"]) >= {"customer_id", "severity", "fault_type", "loss_amount"}


def test_docs_are_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert b"/docs/static/swagger-ui-bundle.js" in page.data
    with client.get("/docs/static/swagger-ui-bundle.js") as script:
        assert script.status_code == 200 and len(script.data) > 100_000


def test_healthz_needs_no_key(client):
    assert client.get("/healthz").json == {"status": "ok"}

"""Security headers: the API docs are locked down, secrets are never cached, 405 says Allow."""

from __future__ import annotations

import pytest


def test_docs_page_has_a_policy_that_allows_only_its_own_files(client):
    response = client.get("/docs")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self' 'sha256-" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_spec_and_swagger_files_are_not_sniffed_or_framed(client):
    spec = client.get("/openapi.json")
    assert spec.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert spec.headers["X-Frame-Options"] == "DENY"
    assert spec.headers["X-Content-Type-Options"] == "nosniff"
    with client.get("/docs/static/swagger-ui-bundle.js") as script:
        assert script.status_code == 200
        assert script.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "page", ["index.html", "oauth2-redirect.html", "swagger-initializer.js", "index.j2", "x.map"]
)
def test_the_bundles_own_pages_are_not_served(client, page):
    """The stock index.html fetched the petstore spec from the internet, unframed; only what
    /docs loads is served (the hardening issue, finding 10)."""
    response = client.get(f"/docs/static/{page}")
    assert response.status_code == 404 and response.json["code"] == 404


@pytest.mark.parametrize(
    "asset", ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"]
)
def test_the_docs_assets_carry_the_docs_headers(client, asset):
    with client.get(f"/docs/static/{asset}") as response:
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_new_key_is_never_cached(client, auth):
    created = client.post("/v1/keys", json={"role": "agent"}, headers=auth("admin"))
    assert created.status_code == 201 and created.json["key"].startswith("rmd_")
    assert created.headers["Cache-Control"] == "no-store"
    listed = client.get("/v1/keys", headers=auth("admin"))
    assert "no-store" not in listed.headers.get("Cache-Control", "")
    assert listed.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/recommendations", {"POST", "OPTIONS"}),
        ("POST", "/v1/budgets", {"GET", "HEAD", "OPTIONS"}),
        ("PATCH", "/v1/caps", {"GET", "HEAD", "PUT", "OPTIONS"}),
    ],
)
def test_405_names_the_allowed_methods(client, auth, method, path, allowed):
    response = client.open(path, method=method, headers=auth())
    assert response.status_code == 405 and response.json["code"] == 405
    assert set(response.headers["Allow"].split(", ")) == allowed

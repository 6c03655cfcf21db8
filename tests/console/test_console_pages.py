"""The web console's shells and assets are public and hold no data; `GET /v1/whoami` checks a key.

These run without a browser (tests/console/test_console_browser.py clicks through the pages).
"""

import pytest

PAGES = {
    "/console/": "Sign in",
    "/console/agent": "Agent: recommend a remedy",
    "/console/finance": "Finance: budgets, caps and what-if",
    "/console/models": "Models: versions, cards, promotion",
}
ASSETS = ["api.js", "sign_in.js", "agent.js", "finance.js", "models.js", "console.css"]


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
def test_pages_are_served_without_a_key_with_their_heading_and_script(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html
    page = "sign_in" if path == "/console/" else path.rsplit("/", 1)[1]
    assert f'<script type="module" src="/console/static/{page}.js">' in html
    assert '<link rel="stylesheet" href="/console/static/console.css">' in html
    # Own scripts only, no inline script, never framed: the key in sessionStorage stays safe.
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in html


def test_pages_use_labelled_inputs(client):
    html = client.get("/console/agent").get_data(as_text=True)
    for field in ("customer_id", "severity", "fault_type", "customer_value", "loss_amount"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
        assert f'id="{field}-error"' in html  # where the API's field error is shown
    assert '<label for="api-key">API key</label>' in client.get("/console/").get_data(as_text=True)


@pytest.mark.parametrize("asset", ASSETS)
def test_static_assets_are_served_without_a_key(client, asset):
    response = client.get(f"/console/static/{asset}")
    assert response.status_code == 200
    expected = "text/css" if asset.endswith(".css") else "text/javascript"
    assert response.mimetype == expected
    response.close()


def test_scripts_load_nothing_from_other_origins(client):
    for asset in ASSETS:
        response = client.get(f"/console/static/{asset}")
        text = response.get_data(as_text=True)
        response.close()
        assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in text and "innerHTML" not in text


def test_the_api_still_needs_a_key(client):
    assert client.get("/v1/budgets").status_code == 401
    assert client.get("/console/nope").status_code == 404


@pytest.mark.parametrize("role", ["agent", "finance", "admin"])
def test_whoami_names_the_key_role_and_team(client, keys, role):
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {keys[role]}"})
    assert response.status_code == 200
    assert response.json == {"prefix": keys[role].split("_")[1], "role": role, "team": None}


def test_whoami_shows_a_team_scope(client, auth):
    created = client.post(
        "/v1/keys", json={"role": "agent", "team": "emea"}, headers=auth("admin")
    ).json
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.json == {"prefix": created["prefix"], "role": "agent", "team": "emea"}


@pytest.mark.parametrize("header", [None, "Bearer rmd_nope_nope", "Basic abc"])
def test_whoami_without_a_valid_key_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == 401 and response.json["message"]

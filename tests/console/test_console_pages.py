"""The web console's shells and assets are public and hold no data; `GET /v1/whoami` checks a key.

These run without a browser (tests/console/test_*_browser.py click through the pages).
"""

import pytest

from remedy import create_app
from remedy.console.framing import frame_ancestors
from remedy.origins import OriginPattern

PAGES = {
    "/console/": "Sign in",
    "/console/agent": "Agent: recommend a remedy",
    "/console/finance": "Finance: budgets, caps and what-if",
    "/console/reports": "Reports: spend, failures, promises and the honesty audit",
    "/console/models": "Models: versions, cards, promotion",
    "/console/lead": "Lead desk: incidents at risk, repeat victims, approvals",
}
ASSETS = [
    "api.js",
    "sign_in.js",
    "agent.js",
    "finance.js",
    "finance_pools.js",
    "finance_caps.js",
    "finance_reports.js",
    "reports.js",
    "finance_whatif.js",
    "finance_suggest.js",
    "format.js",
    "charts.js",
    "model_card.js",
    "models.js",
    "experiments.js",
    "panel.js",
    "lead.js",
    "approvals.js",
    "approval_cards.js",
    "customer_history.js",
    "plans.js",
    "incident.js",
    "console.css",
]


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
    assert response.json == {
        "prefix": keys[role].split("_")[1],
        "role": role,
        "team": None,
        "expires_at": None,  # a panel session's key has one
    }


def test_whoami_shows_a_team_scope(client, auth):
    created = client.post(
        "/v1/keys", json={"role": "agent", "team": "emea"}, headers=auth("admin")
    ).json
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.json == {
        "prefix": created["prefix"],
        "role": "agent",
        "team": "emea",
        "expires_at": None,
    }


@pytest.mark.parametrize("header", [None, "Bearer rmd_nope_nope", "Basic abc"])
def test_whoami_without_a_valid_key_is_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == 401 and response.json["message"]


def test_the_panel_is_served_without_a_key_and_may_be_framed_by_this_origin_only(client):
    response = client.get("/console/panel")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<script type="module" src="/console/static/panel.js">' in html
    assert 'data-self-allowed="true"' in html and 'data-host-origin=""' in html
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("frame-ancestors 'self'") and "script-src 'self'" in policy
    assert "<script>" not in html
    # The other pages still refuse every frame.
    assert (
        client.get("/console/agent")
        .headers["Content-Security-Policy"]
        .endswith("frame-ancestors 'none'")
    )


@pytest.mark.parametrize(
    "app",
    [{"PANEL_FRAME_ANCESTORS": "self https://Support.Example.com/ https://*.zendesk.com"}],
    indirect=True,
)
def test_the_panel_frame_ancestors_come_from_the_setting(client):
    response = client.get("/console/panel")
    # A wildcard never reaches the header: CSP's `*.` would match any depth, the panel's one.
    expected = "'self' https://support.example.com"
    assert response.headers["Content-Security-Policy"].endswith(f"frame-ancestors {expected}")
    assert 'data-patterns="https://support.example.com https://*.zendesk.com"' in (
        response.get_data(as_text=True)
    )
    host = client.get("/console/panel?host=https://acme.zendesk.com")
    assert host.headers["Content-Security-Policy"].endswith(
        f"frame-ancestors {expected} https://acme.zendesk.com"
    )
    assert 'data-host-origin="https://acme.zendesk.com"' in host.get_data(as_text=True)
    for refused in ("https://a.b.zendesk.com", "https://zendesk.com", "http://acme.zendesk.com"):
        answer = client.get(f"/console/panel?host={refused}")
        assert answer.headers["Content-Security-Policy"].endswith(f"frame-ancestors {expected}")
        assert 'data-host-origin=""' in answer.get_data(as_text=True)


def test_the_panel_offers_a_key_field_unless_pasted_keys_are_switched_off(app, client):
    assert 'id="api-key"' in client.get("/console/panel").get_data(as_text=True)
    app.config["PANEL_PASTED_KEYS"] = False  # REMEDY_PANEL_PASTED_KEYS=0
    html = client.get("/console/panel").get_data(as_text=True)
    assert 'id="api-key"' not in html and 'data-pasted-keys="false"' in html
    assert "Waiting for the help desk to sign you in" in html


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.zendesk.com", True),
        ("https://A.Zendesk.com", True),
        ("https://a.b.zendesk.com", False),
        ("https://zendesk.com", False),
        ("https://a.zendesk.com:8443", False),
        ("http://a.zendesk.com", False),
        ("https://a.zendesk.com/path", False),
        ("https://evil.com/.zendesk.com", False),
    ],
)
def test_a_star_stands_for_exactly_one_label(origin, allowed):
    assert OriginPattern.parse("https://*.zendesk.com").matches(origin) is allowed


@pytest.mark.parametrize(
    "setting",
    [
        "*",
        "https://*",
        "https:",
        "'none' *",
        "javascript:alert(1)",
        "https://x.com/path",
        "",
        "https://exa mple.com",
        "*.example.com",
        "https://a.*.example.com",
        "'unsafe-inline'",
    ],
)
def test_an_unsafe_frame_ancestors_setting_is_refused(setting):
    with pytest.raises(ValueError, match="REMEDY_PANEL_FRAME_ANCESTORS"):
        frame_ancestors(setting)


def test_the_app_does_not_start_with_a_wildcard_frame_ancestor(tmp_path):
    with pytest.raises(ValueError, match="never '\\*'"):
        create_app(
            {
                "TESTING": True,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
                "PANEL_FRAME_ANCESTORS": "*",
            }
        )


def test_frame_ancestors_accepts_self_and_origins_with_ports():
    assert frame_ancestors("'self' http://127.0.0.1:8001 https://a.b.c") == (
        "'self'",
        "http://127.0.0.1:8001",
        "https://a.b.c",
    )

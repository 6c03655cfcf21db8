"""Help-desk integrations and the panel's sign-in through its host (HS256 tokens, PyJWT)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Any

import jwt
import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.keys import KeyService, Principal, PrincipalCache, hash_key
from remedy.store import generation
from remedy.store.tables import ApiKey, AuditEntry, Integration, utcnow
from tests.conftest import incident_payload
from tests.factories import set_pool

HOST = "https://desk.example.com"


def _integration(client, auth, origins=("https://*.example.com",), team="emea") -> dict:
    """Create an integration as admin; return the answer (with its secret)."""
    response = client.post(
        "/v1/integrations",
        json={"name": "Support desk", "team": team, "allowed_origins": list(origins)},
        headers=auth("admin"),
    )
    assert response.status_code == 201, response.json
    return response.json


def _token(integration: dict, secret: str | None = None, **claims: Any) -> str:
    """A token as the host's backend mints it: 5 minutes, agent-7, the integration's team."""
    payload = {
        "iss": integration["id"],
        "aud": "remedy-panel",
        "sub": "agent-7",
        "team": integration["team"],
        "exp": utcnow() + timedelta(minutes=5),
        "iat": utcnow(),
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, secret or integration["secret"], algorithm="HS256")


class _Lines(logging.Handler):
    """Keep what remedy logs (its logger does not propagate to pytest's caplog)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def log_lines():
    """What remedy.services.integrations logs during the test."""
    logger = logging.getLogger("remedy.services.integrations")
    handler = _Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_an_admin_creates_an_integration_whose_secret_is_shown_once_and_audited(app, client, auth):
    made = _integration(client, auth, origins=["https://*.Example.com/", "http://127.0.0.1:8001"])
    assert made["allowed_origins"] == ["https://*.example.com", "http://127.0.0.1:8001"]
    assert len(made["secret"]) >= 43 and made["team"] == "emea"
    listed = client.get("/v1/integrations", headers=auth("admin")).json["integrations"]
    assert [i["id"] for i in listed] == [made["id"]]
    assert all("secret" not in i for i in listed)
    with db.database(app).unit_of_work() as session:
        entry = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "integration")
        ).one()
        assert entry.action == "create" and entry.entity_id == made["id"]
        assert made["secret"] not in json.dumps(entry.after)
    assert client.get("/v1/integrations", headers=auth("agent")).status_code == 403


@pytest.mark.parametrize(
    ("origins", "field"),
    [
        ([], "allowed_origins"),
        (["*"], "allowed_origins"),
        (["https://*"], "allowed_origins"),
        (["https://x.example.com/path"], "allowed_origins"),
        (["https://a.*.example.com"], "allowed_origins"),
    ],
)
def test_an_integration_with_unsafe_origins_is_refused_naming_the_field(
    client, auth, origins, field
):
    response = client.post(
        "/v1/integrations",
        json={"name": "x", "team": "emea", "allowed_origins": origins},
        headers=auth("admin"),
    )
    errors = response.json["errors"]
    assert response.status_code == 422, response.json
    assert any(name == field or name.startswith(f"{field}.") for name in errors), errors
    assert client.get("/v1/integrations", headers=auth("admin")).json["integrations"] == []


def test_a_host_minted_token_becomes_a_short_lived_agent_key_of_the_integrations_team(
    app, client, auth, log_lines
):
    made = _integration(client, auth)
    token = _token(made)
    answer = client.post("/v1/panel/sessions", json={"token": token, "origin": HOST})
    assert answer.status_code == 201, answer.json
    assert answer.headers["Cache-Control"] == "no-store"
    session = answer.json
    assert (session["role"], session["team"], session["agent"]) == ("agent", "emea", "agent-7")
    bearer = {"Authorization": f"Bearer {session['key']}"}
    who = client.get("/v1/whoami", headers=bearer).json
    assert who["role"] == "agent" and who["team"] == "emea" and who["expires_at"]
    set_pool(app, "emea", "5000.00")
    ok = client.post("/v1/recommendations", json={"incident": incident_payload()}, headers=bearer)
    assert ok.status_code == 201 and ok.json["team"] == "emea"
    other = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(), "team": "apac"},
        headers=bearer,
    )
    assert other.status_code == 403  # scoped to the integration's team
    assert client.get("/v1/keys", headers=bearer).status_code == 403  # an agent, nothing more
    with db.database(app).unit_of_work() as db_session:
        row = db_session.scalars(sa.select(ApiKey).where(ApiKey.prefix == session["prefix"])).one()
        assert row.integration_id == made["id"] and row.key_hash == hash_key(session["key"])
        assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
        assert "agent-7" in row.label
    assert any("opened for agent 'agent-7'" in line for line in log_lines)
    assert not any(token in line or session["key"] in line for line in log_lines)


def _refused(client, token: str, log_lines: list[str], reason: str, origin: str = HOST) -> None:
    """The token is refused with 401 naming `reason`, logged without the token."""
    answer = client.post("/v1/panel/sessions", json={"token": token, "origin": origin})
    assert answer.status_code == 401, answer.json
    assert reason in answer.json["message"] and "token" in answer.json["errors"]
    assert any(reason in line for line in log_lines), log_lines
    assert not any(token in line for line in log_lines)
    assert not any(token[-20:] in line for line in log_lines)  # not even its signature


def test_expired_wrong_audience_and_tampered_tokens_are_refused_and_logged_without_the_token(
    app, client, auth, log_lines
):
    made = _integration(client, auth)
    _refused(client, _token(made, exp=utcnow() - timedelta(minutes=2)), log_lines, "has expired")
    _refused(client, _token(made, aud="someone-else"), log_lines, "audience")
    header, payload, signature = _token(made).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["team"] = "apac"  # a host page trying to reach another team's data
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _refused(client, f"{header}.{forged}.{signature}", log_lines, "signature does not verify")
    _refused(client, _token(made, secret="x" * 64), log_lines, "signature does not verify")
    _refused(client, _token(made, sub=None), log_lines, "lacks the claim 'sub'")
    _refused(client, _token(made, team="apac"), log_lines, "team is not the integration's")
    _refused(
        client, _token(made, exp=utcnow() + timedelta(hours=2)), log_lines, "lives longer than"
    )
    unsigned = jwt.encode(
        {"iss": made["id"], "aud": "remedy-panel", "sub": "a", "team": "emea"},
        key=None,
        algorithm="none",
    )
    _refused(client, unsigned, log_lines, "invalid")
    _refused(client, "not.a.token", log_lines, "unknown or revoked integration")
    _refused(client, _token({**made, "id": "f" * 32}), log_lines, "unknown or revoked integration")
    with db.database(app).unit_of_work() as session:
        assert (
            session.scalar(
                sa.select(sa.func.count()).select_from(ApiKey).where(ApiKey.expires_at.is_not(None))
            )
            == 0
        )


def test_the_host_origin_must_match_the_integrations_patterns_one_label_for_a_star(
    client, auth, log_lines
):
    made = _integration(client, auth, origins=["https://*.example.com"])
    ok = client.post(
        "/v1/panel/sessions", json={"token": _token(made), "origin": "https://desk.example.com"}
    )
    assert ok.status_code == 201
    for origin in ("https://a.b.example.com", "https://example.com", "http://desk.example.com"):
        _refused(client, _token(made), log_lines, "is not allowed", origin=origin)


def test_a_signing_proxy_may_send_the_token_as_a_bearer(client, auth):
    made = _integration(client, auth)
    answer = client.post(
        "/v1/panel/sessions",
        json={"origin": HOST},
        headers={"Authorization": f"Bearer {_token(made)}"},
    )
    assert answer.status_code == 201 and answer.json["agent"] == "agent-7"


def test_a_session_without_token_or_origin_is_422_naming_the_field(client):
    answer = client.post("/v1/panel/sessions", json={"origin": HOST})
    assert answer.status_code == 422 and "token" in answer.json["errors"]
    answer = client.post("/v1/panel/sessions", json={"token": "x"})
    assert answer.status_code == 422 and "origin" in answer.json["errors"]


@pytest.mark.parametrize("app", [{"PANEL_SESSION_MINUTES": 0}], indirect=True)
def test_a_session_key_stops_working_when_it_expires(client, auth):
    made = _integration(client, auth)
    session = client.post("/v1/panel/sessions", json={"token": _token(made), "origin": HOST}).json
    who = client.get("/v1/whoami", headers={"Authorization": f"Bearer {session['key']}"})
    assert who.status_code == 401


def test_a_cached_session_key_is_refused_once_its_time_is_up(app):
    """A worker's key cache holds principals; expiry is checked against the clock on a hit."""
    cache = PrincipalCache()
    with db.database(app).unit_of_work() as session:
        token, row = KeyService(session).create("agent", "emea")
        current = generation.current(session)
        live = Principal(row.prefix, "agent", "emea", utcnow() + timedelta(minutes=5))
        cache.put(current, hash_key(token), live)
        assert KeyService(session).authenticate(token, cache) == live
        gone = Principal(row.prefix, "agent", "emea", utcnow() - timedelta(seconds=1))
        cache.put(current, hash_key(token), gone)
        assert KeyService(session).authenticate(token, cache) is None


def test_revoking_an_integration_stops_its_tokens_and_its_sessions_keys(app, client, auth):
    made = _integration(client, auth)
    key = client.post("/v1/panel/sessions", json={"token": _token(made), "origin": HOST}).json[
        "key"
    ]
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/whoami", headers=bearer).status_code == 200
    revoked = client.post(f"/v1/integrations/{made['id']}/revoke", headers=auth("admin"))
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    assert client.get("/v1/whoami", headers=bearer).status_code == 401
    again = client.post("/v1/panel/sessions", json={"token": _token(made), "origin": HOST})
    assert again.status_code == 401
    with db.database(app).unit_of_work() as session:
        assert session.get(Integration, made["id"]).revoked_at is not None
    assert client.post("/v1/integrations/nope/revoke", headers=auth("admin")).status_code == 404


def test_the_worker_deletes_panel_session_keys_a_day_after_they_expire(app, client, auth):
    """Every panel sign-in mints a key: long-expired ones are deleted by the worker's upkeep;
    live ones, ones expired less than a day ago and the admins' own keys stay."""
    from remedy.services.integrations import purge_expired_sessions
    from tests.factories import run_jobs

    made = _integration(client, auth)
    opened = [
        client.post("/v1/panel/sessions", json={"token": _token(made), "origin": HOST}).json
        for _ in range(3)
    ]
    old, recent, live = (s["prefix"] for s in opened)
    with db.database(app).unit_of_work() as session:
        for prefix, ago in ((old, timedelta(days=2)), (recent, timedelta(hours=2))):
            session.execute(
                sa.update(ApiKey).where(ApiKey.prefix == prefix).values(expires_at=utcnow() - ago)
            )
        own = KeyService(session).create("agent", "emea")[1].prefix
        session.execute(
            sa.update(ApiKey)
            .where(ApiKey.prefix == own)
            .values(expires_at=utcnow() - timedelta(days=3))
        )
    run_jobs(app)  # the periodic upkeep runs once
    with db.database(app).unit_of_work() as session:
        left = set(session.scalars(sa.select(ApiKey.prefix)))
        assert old not in left and {recent, live, own} <= left
        assert purge_expired_sessions(session) == 0  # nothing more to do
    answer = client.get("/v1/whoami", headers={"Authorization": f"Bearer {opened[2]['key']}"})
    assert answer.status_code == 200

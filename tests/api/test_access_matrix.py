"""Every operation of /openapi.json x every role x (no team, the resource's team, another team).

POLICY below declares, for each operation, the roles that may call it (admin always may) and how
a team scope applies. An operation the document lists and POLICY lacks fails the test, and so
does a route whose `@roles` disagrees with POLICY: a route added later cannot escape the matrix.
The resources (a decision, a pool, a key) belong to team emea; the keys are unscoped, scoped to
emea (own) or scoped to apac (another team).

Scopes:
- public: no key needed;
- shared: the same for every team (reads of catalog, rules, caps, models, whoami);
- unscoped: changes what every team shares (catalog, rules, caps, the model in use): a scoped
  key of any role gets 403;
- team: acts on emea's resource: another team's key gets 403 or 404 (as if it did not exist);
- filtered: every team may call it, but a scoped key sees only its team: apac's answer must
  not mention emea;
- job: a job emea's finance key started: finance (unscoped or emea's) reads it; any other key
  gets 404, as if it did not exist (a job is read with its kind's role and its starter's team).

A lead includes what an agent may do, and a lead key is always scoped to a team (there is no
unscoped lead).
"""

from __future__ import annotations

from datetime import timedelta

import jwt

from remedy.extensions import db
from remedy.services.integrations import IntegrationService
from remedy.services.jobs import JobQueue
from remedy.services.keys import ROLES, KeyService
from remedy.store.tables import utcnow
from tests.conftest import incident_payload
from tests.factories import default_document, set_pool

AGENT, FINANCE, ADMIN = ("agent",), ("finance",), ()  # admin may always
LEAD_OR_FINANCE = ("lead", "finance")

# operation -> (roles allowed besides admin, scope)
POLICY: dict[str, tuple[tuple[str, ...], str]] = {
    "GET /healthz": ((), "public"),
    "GET /readyz": ((), "public"),
    "POST /v1/recommendations": (AGENT, "team"),
    "GET /v1/decisions/{decision_id}": (("agent", "finance"), "team"),
    "POST /v1/decisions/{decision_id}/accept": (AGENT, "team"),
    "POST /v1/decisions/{decision_id}/approve": (LEAD_OR_FINANCE, "team"),
    "POST /v1/decisions/{decision_id}/reject": (LEAD_OR_FINANCE, "team"),
    "GET /v1/approvals": (LEAD_OR_FINANCE, "filtered"),
    "POST /v1/decisions/{decision_id}/fulfil": (AGENT, "team"),
    "POST /v1/decisions/{decision_id}/cancel": (("agent", "finance"), "team"),
    "POST /v1/outcomes": (AGENT, "team"),
    "GET /v1/catalog": (("agent", "finance"), "shared"),
    "PUT /v1/catalog": (ADMIN, "unscoped"),
    "GET /v1/catalog/history": (FINANCE, "shared"),
    "GET /v1/rules": (("agent", "finance"), "shared"),
    "PUT /v1/rules": (ADMIN, "unscoped"),
    "GET /v1/rules/history": (FINANCE, "shared"),
    "GET /v1/caps": (("agent", "finance"), "shared"),
    "PUT /v1/caps": (FINANCE, "unscoped"),
    "GET /v1/caps/history": (FINANCE, "shared"),
    "GET /v1/caps/governing": (FINANCE, "shared"),
    "GET /v1/exchange-rates": (("agent", "finance"), "shared"),
    "PUT /v1/exchange-rates": (FINANCE, "unscoped"),
    "GET /v1/exchange-rates/history": (FINANCE, "shared"),
    "GET /v1/budgets": (("agent", "finance"), "filtered"),
    "GET /v1/budgets/{team}": (("agent", "finance"), "team"),
    "PUT /v1/budgets/{team}": (FINANCE, "team"),
    "GET /v1/budgets/{team}/history": (FINANCE, "team"),
    "GET /v1/models": (FINANCE, "shared"),
    "GET /v1/models/{version}": (FINANCE, "shared"),
    "POST /v1/models/{version}/promote": (ADMIN, "unscoped"),
    "POST /v1/models/rollback": (ADMIN, "unscoped"),
    "GET /v1/models/experiments": (FINANCE, "shared"),
    "POST /v1/models/experiments": (FINANCE, "unscoped"),
    "GET /v1/models/experiments/{experiment_id}": (FINANCE, "shared"),
    "POST /v1/models/experiments/{experiment_id}/stop": (FINANCE, "unscoped"),
    "GET /v1/keys": (ADMIN, "filtered"),
    "POST /v1/keys": (ADMIN, "team"),
    "POST /v1/keys/{prefix}/revoke": (ADMIN, "team"),
    "GET /v1/whoami": (("agent", "finance"), "shared"),
    "GET /v1/integrations": (ADMIN, "filtered"),
    "POST /v1/integrations": (ADMIN, "team"),
    "POST /v1/integrations/{integration_id}/revoke": (ADMIN, "team"),
    "POST /v1/panel/sessions": ((), "public"),
    "GET /v1/audit": (ADMIN, "filtered"),
    "POST /v1/budgets/simulate": (FINANCE, "team"),
    "POST /v1/budgets/{team}/suggest-caps": (FINANCE, "team"),
    "GET /v1/jobs/{job_id}": (("agent", "lead", "finance"), "job"),
    "POST /v1/jobs/{job_id}/cancel": (("agent", "lead", "finance"), "job"),
    "GET /v1/reports/spend": (LEAD_OR_FINANCE, "filtered"),
    "GET /v1/reports/diagnose": (LEAD_OR_FINANCE, "filtered"),
    "GET /v1/reports/promises": (LEAD_OR_FINANCE, "filtered"),
    "GET /v1/reports/audit": (LEAD_OR_FINANCE, "filtered"),
    "GET /v1/incidents/at-risk": (LEAD_OR_FINANCE, "filtered"),
    "GET /v1/customers/{customer_id}/history": (("agent", "finance"), "filtered"),
    "GET /v1/customers/repeat-victims": (LEAD_OR_FINANCE, "filtered"),
    "POST /v1/mass-incidents": (LEAD_OR_FINANCE, "team"),
    "GET /v1/mass-incidents/{mass_incident_id}": (LEAD_OR_FINANCE, "team"),
    "GET /v1/mass-incidents/{mass_incident_id}/customers": (LEAD_OR_FINANCE, "team"),
    "POST /v1/mass-incidents/{mass_incident_id}/approve": (LEAD_OR_FINANCE, "team"),
    "POST /v1/mass-incidents/{mass_incident_id}/retry": (LEAD_OR_FINANCE, "team"),
    "GET /v1/webhooks": (LEAD_OR_FINANCE, "filtered"),
    "POST /v1/webhooks": (LEAD_OR_FINANCE, "team"),
    "GET /v1/webhooks/{webhook_id}": (LEAD_OR_FINANCE, "team"),
    "PATCH /v1/webhooks/{webhook_id}": (LEAD_OR_FINANCE, "team"),
    "DELETE /v1/webhooks/{webhook_id}": (LEAD_OR_FINANCE, "team"),
    "GET /v1/webhooks/{webhook_id}/deliveries": (LEAD_OR_FINANCE, "team"),
    "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": (LEAD_OR_FINANCE, "team"),
}
SCOPES = {"public", "shared", "unscoped", "team", "filtered", "job"}
OWN, OTHER = "emea", "apac"


def _operations(spec: dict) -> list[str]:
    """Every operation of the OpenAPI document as 'METHOD /path'."""
    return [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    ]


def _window() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def _requests(decision_id: str, plan_id: str, panel_token: str = "") -> dict[str, dict]:
    """A request per operation that passes validation, on emea's resources."""
    pool = {"period": "month", "limit": "5000.00", "currency": "EUR"}
    return {
        "POST /v1/integrations": {
            "json": {"name": "desk", "team": OWN, "allowed_origins": ["https://*.example.com"]}
        },
        "POST /v1/panel/sessions": {
            "json": {"token": panel_token, "origin": "https://desk.example.com"}
        },
        "POST /v1/recommendations": {"json": {"incident": incident_payload(), "team": OWN}},
        "POST /v1/decisions/{decision_id}/accept": {"json": {"plan_id": plan_id}},
        "POST /v1/decisions/{decision_id}/approve": {"json": {}},
        "POST /v1/decisions/{decision_id}/reject": {"json": {"reason": "not this one"}},
        "POST /v1/decisions/{decision_id}/fulfil": {"json": {"actual_cost": "1.00"}},
        "POST /v1/decisions/{decision_id}/cancel": {"json": {}},
        "POST /v1/outcomes": {
            "json": {
                "decision_id": decision_id,
                "retained": True,
                "observed_at": utcnow().isoformat(),
            }
        },
        "PUT /v1/catalog": {"json": default_document("catalog")},
        "PUT /v1/rules": {"json": default_document("rules")},
        "PUT /v1/caps": {"json": default_document("caps")},
        "PUT /v1/exchange-rates": {"json": default_document("exchange_rates")},
        "PUT /v1/budgets/{team}": {"json": pool},
        "POST /v1/models/{version}/promote": {"json": {}},
        "POST /v1/models/experiments": {"json": {"challenger": "sim-3", "share": "0.2"}},
        "POST /v1/models/experiments/{experiment_id}/stop": {"json": {}},
        "POST /v1/keys": {"json": {"role": "agent", "team": OWN}},
        "POST /v1/budgets/{team}/suggest-caps": {"json": {"currency": "EUR", **_window()}},
        "POST /v1/budgets/simulate": {
            "json": {**_window(), "pools": [{**pool, "team": OWN, "limit": "1.00"}]}
        },
        "GET /v1/reports/spend": {"query_string": {**_window(), "group_by": "team"}},
        "GET /v1/reports/diagnose": {"query_string": _window()},
        "GET /v1/reports/promises": {"query_string": _window()},
        "POST /v1/mass-incidents": {
            "json": {
                "incident": {"severity": 2, "fault_type": "company", "currency": "EUR"},
                "team": OWN,
                "customers": [
                    {"customer_id": "m-1", "customer_value": "100.00", "loss_amount": "5.00"}
                ],
            }
        },
        "POST /v1/webhooks": {
            "json": {
                "url": "https://hooks.example.com/x",
                "events": ["promise.broken"],
                "team": OWN,
            }
        },
        "PATCH /v1/webhooks/{webhook_id}": {"json": {"description": "changed"}},
        "GET /v1/reports/audit": {"query_string": _window()},
    }


def _mass_and_webhook(app, client, tokens) -> tuple[str, str, int]:
    """emea's ready mass incident (declared by a key that approves nothing here), and an emea
    webhook with one delivery in its log."""
    from remedy.services.notifications import PROMISE_BROKEN, emit
    from tests.factories import run_jobs

    finance = {"Authorization": f"Bearer {tokens[('finance', OWN)]}"}
    declared = client.post(
        "/v1/mass-incidents", headers=finance, **_requests("", "")["POST /v1/mass-incidents"]
    )
    assert declared.status_code == 202, declared.json
    run_jobs(app)
    hook = client.post("/v1/webhooks", headers=finance, **_requests("", "")["POST /v1/webhooks"])
    assert hook.status_code == 201, hook.json
    with db.database(app).unit_of_work() as session:
        emit(session, PROMISE_BROKEN, OWN, {"decision_id": "d"})
    deliveries = client.get(f"/v1/webhooks/{hook.json['id']}/deliveries", headers=finance).json
    return declared.json["id"], hook.json["id"], deliveries["deliveries"][0]["id"]


def _another_webhook(client, tokens) -> str:
    """A fresh emea webhook (to be deleted)."""
    finance = {"Authorization": f"Bearer {tokens[('finance', OWN)]}"}
    made = client.post("/v1/webhooks", headers=finance, **_requests("", "")["POST /v1/webhooks"])
    assert made.status_code == 201, made.json
    return made.json["id"]


def _expected(role: str, scope_of_key: str | None, allowed: tuple[str, ...], scope: str) -> str:
    """'denied' (403, or 404 for what another team's key may not see) or 'allowed'."""
    if scope == "public":
        return "allowed"
    if scope == "job":  # finance's job, started by emea's finance key
        return "allowed" if role in ("finance", "admin") and scope_of_key != OTHER else "denied"
    lead_as_agent = role == "lead" and "agent" in allowed
    if role != "admin" and role not in allowed and not lead_as_agent:
        return "denied"
    if scope == "unscoped" and scope_of_key is not None:
        return "denied"
    if scope == "team" and scope_of_key == OTHER:
        return "denied"
    return "allowed"


def test_every_operation_declares_its_policy_and_the_routes_agree(app, client):
    spec = client.get("/openapi.json").json
    operations = _operations(spec)
    missing = sorted(set(operations) - set(POLICY))
    assert not missing, f"operations without a declared access policy in POLICY: {missing}"
    assert sorted(set(POLICY) - set(operations)) == [], "POLICY names operations that are gone"
    assert {scope for _, scope in POLICY.values()} <= SCOPES
    adapter = app.url_map.bind("localhost")
    for operation in operations:
        method, path = operation.split(" ", 1)
        allowed, scope = POLICY[operation]
        endpoint, _ = adapter.match(path.replace("{", "").replace("}", ""), method=method)
        view = getattr(app.view_functions[endpoint].view_class, method.lower())
        if scope == "public":
            assert not hasattr(view, "allowed_roles"), operation
            continue
        assert hasattr(view, "allowed_roles"), f"{operation} has no @roles"
        assert set(view.allowed_roles) - {"admin"} == set(allowed), operation
        assert view.unscoped_only == (scope == "unscoped"), operation


def test_role_by_team_by_operation(app, client, keys):
    """Each operation with each role's key: unscoped, scoped to emea (own), to apac (other)."""
    tokens = {(role, None): keys[role] for role in ("agent", "finance", "admin")}
    with db.database(app).unit_of_work() as session:
        for team in (OWN, OTHER):
            for role in ROLES:
                tokens[(role, team)], _ = KeyService(session).create(role, team, role)
        for role in ROLES:
            if role != "lead":  # a lead key is always scoped to a team
                tokens.setdefault((role, None), KeyService(session).create(role, None, role)[0])
        _, target = KeyService(session).create("agent", OWN, "the key to revoke")
        target_prefix = target.prefix
        origins = ["https://*.example.com"]
        secret, desk = IntegrationService(session).create("desk", OWN, origins, "test")
        _, doomed = IntegrationService(session).create("to revoke", OWN, origins, "test")
        desk_id, doomed_id = desk.id, doomed.id
    claims = {"iss": desk_id, "aud": "remedy-panel", "sub": "a-1", "team": OWN}
    panel_token = jwt.encode(
        {**claims, "exp": utcnow() + timedelta(minutes=5)}, secret, algorithm="HS256"
    )
    set_pool(app, OWN, "5000.00")
    unscoped_agent = {"Authorization": f"Bearer {tokens[('agent', None)]}"}
    decided = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(), "team": OWN},
        headers=unscoped_agent,
    ).json
    decision_id, plan_id = decided["decision_id"], decided["plans"][0]["plan_id"]
    accepted = client.post(
        f"/v1/decisions/{decision_id}/accept", json={"plan_id": plan_id}, headers=unscoped_agent
    )
    assert accepted.status_code in (200, 202), accepted.json
    requests = _requests(decision_id, plan_id, panel_token)
    emea_finance = {"Authorization": f"Bearer {tokens[('finance', OWN)]}"}
    job = client.post("/v1/budgets/simulate", json=_window(), headers=emea_finance)
    assert job.status_code == 202, job.json
    with db.database(app).unit_of_work() as session:  # a live worker: /readyz stays ready
        JobQueue(session).seen("access-matrix")
    mass_id, hook_id, delivery_id = _mass_and_webhook(app, client, tokens)
    spec = client.get("/openapi.json").json

    failures = []
    for operation in _operations(spec):
        method, template = operation.split(" ", 1)
        allowed, scope = POLICY[operation]
        path = (
            template.replace("{decision_id}", decision_id)
            .replace("{team}", OWN)
            .replace("{prefix}", target_prefix)
            .replace("{version}", "sim-3")
            .replace("{job_id}", job.json["id"])
            .replace("{integration_id}", doomed_id)
            .replace("{mass_incident_id}", mass_id)
            .replace("{webhook_id}", hook_id)
            .replace("{delivery_id}", str(delivery_id))
            .replace("{customer_id}", "cust-1")
            .replace("{experiment_id}", "no-such-experiment")
        )
        for role in ROLES:
            for team in (None, OWN, OTHER):
                if (role, team) not in tokens:
                    continue
                headers = {"Authorization": f"Bearer {tokens[(role, team)]}"}
                target = path
                if operation == "DELETE /v1/webhooks/{webhook_id}":  # each call deletes its own
                    target = path.replace(hook_id, _another_webhook(client, tokens))
                answer = client.open(
                    target, method=method, headers=headers, **requests.get(operation, {})
                )
                expected = _expected(role, team, allowed, scope)
                status = answer.status_code
                who = f"{operation} as {role}@{team or '*'}"
                if status >= 500:
                    failures.append(f"{who}: {status} {answer.get_data(as_text=True)[:200]}")
                elif expected == "denied" and status not in (403, 404):
                    failures.append(f"{who}: expected 403/404, got {status}")
                elif expected == "allowed" and status in (401, 403):
                    failures.append(f"{who}: expected access, got {status} {answer.json}")
                elif expected == "allowed" and scope == "team" and status == 404:
                    failures.append(f"{who}: its own team's resource was hidden (404)")
                elif (
                    expected == "allowed"
                    and scope == "filtered"
                    and team == OTHER
                    and OWN in answer.get_data(as_text=True)
                ):
                    failures.append(f"{who}: another team's data in the answer")
    assert failures == [], "\n".join(failures)

"""Champion/challenger experiments through the API, on both databases: starting (only a version
that passed the offline gate, one at a time, finance or admin unscoped, audited), each
customer's arm on every decision, and the worker's check promoting or retiring."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from remedy.decisions.experiments import CHALLENGER, CHAMPION
from remedy.extensions import db
from remedy.services.app_services import engines
from remedy.services.experiments import ExperimentService
from remedy.services.model_registry import BUNDLED, ModelRegistry
from remedy.store.tables import Decision, utcnow
from tests.conftest import incident_payload
from tests.factories import key_headers, set_pool

PRIOR = "heuristic-prior-1"


def _version(tmp_path: Path, name: str, passed: bool | None) -> Path:
    """The bundled sim-4 under another name, its card holding a gate verdict (or none)."""
    target = tmp_path / name
    shutil.copytree(BUNDLED / "sim-4", target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = name
    if passed is not None:
        card["metrics"]["gate"]["verdict"] = {"passed": passed, "reason": "test"}
    (target / "card.json").write_text(json.dumps(card))
    return target


@pytest.fixture
def challenger(app, tmp_path) -> str:
    """A registered version that passed the offline gate (and two that did not)."""
    with db.database(app).unit_of_work() as session:
        registry = ModelRegistry(session)
        registry.register(_version(tmp_path, "cand-pass", True), "test")
        registry.register(_version(tmp_path, "cand-fail", False), "test")
        registry.register(_version(tmp_path, "cand-none", None), "test")
    return "cand-pass"


def test_start_refuses_what_is_not_ready_and_allows_one_at_a_time(app, client, auth, challenger):
    finance = auth("finance")
    start = lambda body, headers=finance: client.post(  # noqa: E731
        "/v1/models/experiments", json=body, headers=headers
    )
    assert start({"challenger": "nope", "share": "0.2"}).status_code == 404
    for name in ("cand-fail", "cand-none"):
        refused = start({"challenger": name, "share": "0.2"})
        assert refused.status_code == 409 and "challenger" in refused.json["errors"], refused.json
        assert "offline gate" in refused.json["errors"]["challenger"][0]
    for share in ("0", "0.0", "1", "1.5", "-0.1", "abc", 0.2):
        bad = start({"challenger": challenger, "share": share})
        assert bad.status_code == 422 and "share" in json.dumps(bad.json), (share, bad.json)
    assert start({"challenger": challenger, "share": "0.2"}, auth("agent")).status_code == 403
    scoped = key_headers(app, [("emea finance", "finance", "emea")])("emea finance")
    assert start({"challenger": challenger, "share": "0.2"}, scoped).status_code == 403
    assert client.get("/v1/models/experiments", headers=finance).json["running"] is None

    made = start({"challenger": challenger, "share": "0.25", "reason": "try it"})
    assert made.status_code == 201, made.json
    body = made.json
    assert (body["state"], body["champion"], body["share"]) == ("running", PRIOR, "0.25")
    again = start({"challenger": challenger, "share": "0.5"})
    assert again.status_code == 409 and body["id"] in again.json["errors"]["challenger"][0]
    listing = client.get("/v1/models/experiments", headers=finance).json
    assert listing["running"] == body["id"] and listing["experiments"][0]["latest"] is None
    audit = client.get("/v1/audit?entity=model_experiment", headers=auth("admin")).json
    entry = audit["entries"][0]
    assert (entry["action"], entry["entity_id"]) == ("start", body["id"])
    assert entry["after"]["challenger"] == challenger and entry["after"]["share"] == "0.25"

    stopped = client.post(
        f"/v1/models/experiments/{body['id']}/stop", json={"reason": "enough"}, headers=finance
    )
    assert stopped.status_code == 200 and stopped.json["state"] == "stopped"
    twice = client.post(f"/v1/models/experiments/{body['id']}/stop", json={}, headers=finance)
    assert twice.status_code == 409
    assert client.get("/v1/models/experiments", headers=finance).json["running"] is None
    assert client.get("/v1/models/experiments/none", headers=finance).status_code == 404


def _decide(client, auth, customer: str) -> dict:
    answer = client.post(
        "/v1/recommendations",
        json={"incident": incident_payload(customer_id=customer, external_id=customer)},
        headers=auth(),
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def test_each_customer_is_decided_by_one_arm_and_the_record_says_which(
    app, client, auth, challenger
):
    with db.database(app).unit_of_work() as session:
        experiment = ExperimentService(session).start(challenger, _share("0.5"), "test")
        experiment_id = experiment.id
    seen = {}
    for i in range(48):  # 24 customers, each twice: all on one arm has odds of 2^-23
        customer = f"c-{i % 24}"
        decided = _decide(client, auth, customer)
        seen.setdefault(customer, set()).add(decided["versions"]["model"])
    assert all(len(models) == 1 for models in seen.values())  # one arm per customer
    with db.database(app).unit_of_work() as session:
        rows = session.execute(
            sa.select(
                Decision.customer_id, Decision.experiment_id, Decision.arm, Decision.model_version
            )
        ).all()
    assert len(rows) == 48 and {r.experiment_id for r in rows} == {experiment_id}
    for row in rows:
        expected = challenger if row.arm == CHALLENGER else PRIOR
        assert row.model_version == expected
    assert {r.arm for r in rows} == {CHAMPION, CHALLENGER}, [(r.customer_id, r.arm, r.model_version) for r in rows]
    # The same guardrails either way: every plan shown stays inside the cap.
    decided = _decide(client, auth, "c-guard")
    assert all(
        float(p["total_cost"]) - float(p["fix_cost"]) <= float(decided["caps"]["amount"]) + 1e-9
        or p["requires_approval"]
        for p in decided["plans"]
    )


def _share(text):
    return Decimal(text)


def _run(app, client, auth, challenger, stays) -> tuple[str, str]:
    """An experiment over 120 customers whose outcomes follow `stays(arm)`; check it."""
    set_pool(app, "default", "1000000.00")
    with db.database(app).unit_of_work() as session:
        experiment_id = (
            ExperimentService(session)
            .start(challenger, _share("0.5"), "test", min_per_arm=20, max_per_arm=200)
            .id
        )
    for i in range(120):
        decided = _decide(client, auth, f"k-{i}")
        plan = decided["plans"][0]["plan_id"]
        accepted = client.post(
            f"/v1/decisions/{decided['decision_id']}/accept", json={"plan_id": plan}, headers=auth()
        )
        assert accepted.status_code in (200, 202), accepted.json
        with db.database(app).unit_of_work() as session:
            arm = session.get(Decision, decided["decision_id"]).arm
        recorded = client.post(
            "/v1/outcomes",
            json={
                "decision_id": decided["decision_id"],
                "retained": stays(arm),
                "referrals": 0,
                "observed_at": utcnow().isoformat(),
            },
            headers=auth(),
        )
        assert recorded.status_code in (200, 201), recorded.json
    with app.app_context(), db.database(app).unit_of_work() as session:
        line = ExperimentService(session).check(engines(app).values, "test-worker")
    return experiment_id, line


def test_a_better_challenger_is_promoted_by_the_check_and_audited(app, client, auth, challenger):
    experiment_id, line = _run(app, client, auth, challenger, lambda arm: arm == CHALLENGER)
    assert "promote" in line
    detail = client.get(f"/v1/models/experiments/{experiment_id}", headers=auth("finance")).json
    assert detail["state"] == "promoted" and detail["ended_by"] == "test-worker"
    latest = detail["latest"]
    assert latest["decision"] == "promote" and latest["reason"] == "shown_better"
    assert latest["n"]["champion"] + latest["n"]["challenger"] == 120
    mean = {arm: Decimal(value) for arm, value in latest["mean"].items()}
    assert mean["challenger"] > mean["champion"]
    low, difference, high = (Decimal(latest[k]) for k in ("low", "difference", "high"))
    assert 0 < low < difference < high
    assert len(detail["checks"]) == 1 and detail["checks"][0]["at"]
    assert detail["said"]["decision"].startswith("the challenger is shown better")
    assert detail["said"]["chart"].endswith("always-valid 95% interval")
    german = client.get(
        f"/v1/models/experiments/{experiment_id}",
        headers={**auth("finance"), "Accept-Language": "de-DE"},
    ).json["said"]
    assert german["decision"].startswith("der Herausforderer ist nachweislich besser")
    assert german["axis"] == "verglichene Ergebnisse"
    models = client.get("/v1/models", headers=auth("finance")).json
    assert models["current"] == challenger
    assert models["promotions"][0]["by"] == "test-worker"
    assert models["promotions"][0]["reason"].startswith("challenger shown better online")
    actions = [
        (e["action"], e["entity"])
        for e in client.get("/v1/audit", headers=auth("admin")).json["entries"][:3]
    ]
    assert ("promote", "model") in actions and ("end", "model_experiment") in actions
    # The next decision is outside any experiment and ranked by the promoted challenger.
    after = _decide(client, auth, "after")
    assert after["versions"]["model"] == challenger
    with db.database(app).unit_of_work() as session:
        assert session.get(Decision, after["decision_id"]).experiment_id is None


def test_a_worse_challenger_is_retired_and_the_champion_stays(app, client, auth, challenger):
    experiment_id, line = _run(app, client, auth, challenger, lambda arm: arm == CHAMPION)
    assert "retire" in line
    detail = client.get(f"/v1/models/experiments/{experiment_id}", headers=auth("finance")).json
    assert detail["state"] == "retired" and detail["latest"]["reason"] == "shown_worse"
    assert Decimal(detail["latest"]["high"]) < 0
    assert detail["said"]["decision"].startswith("the challenger is shown worse")
    assert client.get("/v1/models", headers=auth("finance")).json["current"] is None


def test_the_check_stops_an_experiment_whose_champion_was_replaced(app, challenger):
    with db.database(app).unit_of_work() as session:
        experiment_id = ExperimentService(session).start(challenger, _share("0.2"), "t").id
        ModelRegistry(session).promote("cand-none", "admin", "by hand")
    with app.app_context(), db.database(app).unit_of_work() as session:
        line = ExperimentService(session).check(engines(app).values)
        row = ExperimentService(session).get(experiment_id)
        assert "stopped" in line and row.state == "stopped" and row.running_slot is None
        assert "model in use changed" in row.end_reason
        assert ExperimentService(session).check(engines(app).values) == ""

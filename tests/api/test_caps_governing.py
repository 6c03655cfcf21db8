"""GET /v1/caps/governing, field-by-field caps errors, and what-ifs that say why nothing changed."""

from __future__ import annotations

from datetime import timedelta

from remedy.store.tables import utcnow
from tests.factories import default_document, set_pool, simulated


def _range() -> dict[str, str]:
    today = utcnow().date()
    return {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}


def _recommend(client, auth, severity: int, loss: str, value: str, fault: str = "company"):
    incident = {
        "customer_id": f"c-{severity}-{loss}",
        "severity": severity,
        "fault_type": fault,
        "customer_value": value,
        "loss_amount": loss,
        "currency": "EUR",
        "category": "delivery",
    }
    response = client.post(
        "/v1/recommendations", json={"incident": incident, "team": "emea"}, headers=auth("agent")
    )
    assert response.status_code == 201, response.json


def test_governing_names_the_override_of_each_slice_and_counts_binding_terms(client, auth):
    _recommend(client, auth, 4, "80.00", "2400.00")  # override 2: 4 x 80 = 320 < 0.2 x 2400
    _recommend(client, auth, 2, "400.00", "1000.00")  # default: 0.10 x 1000 = 100 binds
    assert client.get("/v1/caps/governing", headers=auth("agent")).status_code == 403
    response = client.get("/v1/caps/governing", headers=auth("finance"))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["version"] == 1 and len(body["slices"]) == 20
    slices = {(s["severity"], s["fault_type"]): s for s in body["slices"]}
    severe = slices[(4, "company")]
    assert severe["overrides"] == [1, 2]
    assert severe["loss_multiple"] == {
        "value": "4",
        "source": "override 2",
        "path": "incident_caps.overrides.2.set.loss_multiple",
    }
    assert severe["absolute"]["EUR"]["value"] == "10000.00"
    assert severe["incidents"] == 1
    assert severe["binding"] == {"loss_multiple": 1, "value_share": 0, "absolute": 0}
    low = slices[(2, "company")]
    assert low["loss_multiple"]["source"] == "default"
    assert low["binding"] == {"loss_multiple": 0, "value_share": 1, "absolute": 0}
    assert slices[(1, "partner")]["incidents"] == 0
    # A range without decisions counts none; a bad range names the field.
    empty = client.get("/v1/caps/governing?from=2020-01-01&to=2020-02-01", headers=auth("finance"))
    assert sum(s["incidents"] for s in empty.json["slices"]) == 0
    bad = client.get("/v1/caps/governing?from=2020-02-01&to=2020-01-01", headers=auth("finance"))
    assert bad.status_code == 422 and "to" in bad.json["errors"]


def test_a_bad_caps_field_is_named_by_its_path(client, auth):
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "abc"
    caps["incident_caps"]["overrides"][1]["set"]["value_share"] = "2"
    caps["approvals"]["agent_up_to"]["EUR"] = "-1"
    response = client.put("/v1/caps", json=caps, headers=auth("finance"))
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["caps"][0].startswith("caps: ")  # the whole message, as before
    assert set(errors) == {
        "caps",
        "caps.incident_caps.default.loss_multiple",
        "caps.incident_caps.overrides.1.set.value_share",
        "caps.approvals.agent_up_to.EUR",
    }
    assert errors["caps.incident_caps.overrides.1.set.value_share"] == [
        "Must be greater than or equal to 0 and less than or equal to 1."
    ]


def test_a_sweep_of_an_overridden_default_says_it_changes_nothing_and_why(app, client, auth):
    _recommend(client, auth, 4, "80.00", "2400.00")
    _recommend(client, auth, 5, "300.00", "5000.00")
    body = {
        **_range(),
        "sweep": {"path": "incident_caps.default.value_share", "values": ["0.05", "0.5"]},
    }
    result = simulated(app, client, body, auth("finance"))
    sweep = result["sweep"]
    assert sweep["current_value"] == "0.10"
    low, high = sweep["curve"]
    assert set(low) >= {
        "approvals_needed",
        "capped_share",
        "expected_retention",
        "skipped_for_budget",
        "skipped_for_pool",
        "chosen",
    }
    assert {k: v for k, v in low.items() if k != "value"} == {
        k: v for k, v in high.items() if k != "value"
    }
    notes = result["notes"]
    assert notes[0] == "Every value of incident_caps.default.value_share gives the same result."
    assert notes[1].startswith(
        "incident_caps.default.value_share is overridden in every slice the 2 replayed"
    )
    assert "severity 4 company by override 2" in notes[1]
    assert "severity 5 company by override 2" in notes[1]


def test_a_sweep_that_moves_carries_approvals_and_cap_hits(app, client, auth):
    _recommend(client, auth, 4, "80.00", "2400.00")
    path = "incident_caps.overrides.2.set.loss_multiple"
    body = {**_range(), "sweep": {"path": path, "values": ["0", "4"]}}
    result = simulated(app, client, body, auth("finance"))
    none, today = result["sweep"]["curve"]
    assert result["sweep"]["current_value"] == "4"
    assert none["capped_share"] == "1.000000"  # nothing beyond the fix fits a zero cap
    assert today == {"value": "4", **{k: v for k, v in today.items() if k != "value"}}
    assert today["spend"] == result["current"]["spend"]
    assert today["approvals_needed"] == result["current"]["approvals_needed"]
    assert result["notes"] == []


def test_a_pool_that_changes_nothing_says_so(app, client, auth):
    set_pool(app, "default", "25000.00")
    _recommend(client, auth, 2, "40.00", "2400.00")
    pools = [{"team": "default", "currency": "EUR", "period": "month", "limit": "99999.00"}]
    body = {**_range(), "pools": pools}
    result = simulated(app, client, body, auth("finance"))
    assert result["notes"] == [
        "The proposed pools give the same result as today's: no replayed plan came up against "
        "a pool's limit either way."
    ]

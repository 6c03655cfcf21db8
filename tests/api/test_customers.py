"""GET /v1/customers/<id>/history and /v1/customers/repeat-victims: what a customer was given
before and how it went, the customers failed again and again; within the caller's team."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remedy.services.customers import BROKEN, KEPT, OPEN, UNRECORDED, promise_state
from remedy.store.tables import utcnow
from tests.api.test_at_risk import decide
from tests.factories import key_headers, set_pool


@pytest.fixture
def people(app):
    """Headers by name: agents and leads of emea and apac, unscoped finance."""
    set_pool(app, "emea", "20000.00")
    set_pool(app, "apac", "20000.00")
    return key_headers(app)


def get(client, headers, path, **query):
    answer = client.get(path, headers=headers, query_string=query)
    assert answer.status_code == 200, answer.json
    return answer.json


@pytest.fixture
def story(client, people):
    """c-rep: three emea decisions over two tickets (the first asked twice) and one apac
    decision; c-once: one emea decision."""
    agent = people("agent")
    first = decide(client, agent, "emea", 180, accept=None, customer_id="c-rep", external_id="T-1")
    again = decide(client, agent, "emea", 170, customer_id="c-rep", external_id="T-1")
    latest = decide(client, agent, "emea", 30, customer_id="c-rep", external_id="T-2")
    now = utcnow()
    for decision_id, retained, fixed in ((again, True, None), (latest, False, now)):
        recorded = client.post(
            "/v1/outcomes",
            json={
                "decision_id": decision_id,
                "retained": retained,
                "observed_at": now.isoformat(),
                "responded_at": (now - timedelta(minutes=25)).isoformat(),
                **({"fixed_at": fixed.isoformat()} if fixed else {}),
            },
            headers=agent,
        )
        assert recorded.status_code == 201, recorded.json
    apac = decide(client, people("apac agent"), "apac", 20, customer_id="c-rep", external_id="A-9")
    decide(client, agent, "emea", 20, customer_id="c-once", external_id="T-3")
    return {"first": first, "again": again, "latest": latest, "apac": apac}


def test_an_agent_reads_its_teams_history_of_a_customer_newest_first_with_promises(
    client, people, story
):
    history = get(client, people("agent"), "/v1/customers/c-rep/history")
    entries = history["entries"]
    assert [e["decision_id"] for e in entries] == [story["latest"], story["again"], story["first"]]
    assert {e["team"] for e in entries} == {"emea"}  # never apac's decision
    latest, again, first = entries
    assert latest["plan"] and latest["plan_cost"] and latest["given"] == latest["plan_cost"]
    assert latest["outcome"]["retained"] is False
    assert latest["fix_promise"] == KEPT  # fixed now, 30 minutes after the complaint
    assert latest["respond_promise"] == KEPT  # answered 5 minutes after
    assert again["fix_promise"] == UNRECORDED  # given, fix due 110 minutes ago, no time recorded
    assert again["respond_promise"] == BROKEN  # answered 145 minutes after the complaint
    assert first["plan"] == [] and first["fix_promise"] == BROKEN  # nothing was ever given
    summary = history["summary"]
    assert (summary["decisions"], summary["incidents"], summary["plans_given"]) == (3, 2, 2)
    assert summary["stayed"] is False
    assert (summary["promises_kept"], summary["promises_broken"]) == (2, 3)
    assert summary["given"][0]["currency"] == "EUR"

    page = get(client, people("agent"), "/v1/customers/c-rep/history", limit=2)
    assert len(page["entries"]) == 2 and page["next_before"] == story["again"]
    rest = get(
        client, people("agent"), "/v1/customers/c-rep/history", limit=2, before=page["next_before"]
    )
    assert [e["decision_id"] for e in rest["entries"]] == [story["first"]]
    assert rest["next_before"] is None

    theirs = get(client, people("apac agent"), "/v1/customers/c-rep/history")
    assert [e["decision_id"] for e in theirs["entries"]] == [story["apac"]]
    assert theirs["summary"]["decisions"] == 1 and "T-1" not in str(theirs)
    everyone = get(client, people("finance"), "/v1/customers/c-rep/history")
    assert len(everyone["entries"]) == 4

    nobody = get(client, people("agent"), "/v1/customers/c-new/history")
    assert nobody["entries"] == [] and nobody["summary"]["decisions"] == 0
    # Another team's decision is not a cursor into this team's history (and leaks nothing).
    bad = client.get(
        "/v1/customers/c-rep/history",
        headers=people("agent"),
        query_string={"before": story["apac"]},
    )
    assert bad.status_code == 404 and "before" in bad.json["errors"]


def test_repeat_victims_counts_tickets_in_the_window_within_the_team(client, people, story):
    mine = get(client, people("lead"), "/v1/customers/repeat-victims", days=30)
    assert [c["customer_id"] for c in mine["customers"]] == ["c-rep"]  # c-once: one incident
    (victim,) = mine["customers"]
    assert (victim["incidents"], victim["decisions"], victim["teams"]) == (2, 3, ["emea"])
    assert victim["plans_given"] == 2 and victim["given"][0]["currency"] == "EUR"
    assert (victim["outcomes"], victim["lost"], victim["stayed"]) == (2, 1, False)
    assert mine["truncated"] is False and mine["days"] == 30

    apac = get(client, people("apac lead"), "/v1/customers/repeat-victims")
    assert apac["customers"] == []  # one apac incident: not a repeat victim of apac's
    everyone = get(client, people("finance"), "/v1/customers/repeat-victims", limit=1)
    (victim,) = everyone["customers"]
    assert victim["incidents"] == 3 and victim["teams"] == ["apac", "emea"]
    assert everyone["truncated"] is False

    assert client.get("/v1/customers/repeat-victims", headers=people("agent")).status_code == 403
    bad = client.get(
        "/v1/customers/repeat-victims", headers=people("lead"), query_string={"days": 400}
    )
    assert bad.status_code == 422 and "days" in bad.json["errors"]


def test_a_promise_is_kept_broken_unrecorded_or_open():
    now = utcnow()
    due = now - timedelta(minutes=1)
    assert promise_state(None, None, True, now) is None
    assert promise_state(due, due, True, now) == KEPT
    assert promise_state(due, now, True, now) == BROKEN
    assert promise_state(due, None, True, now) == UNRECORDED
    assert promise_state(due, None, False, now) == BROKEN
    assert promise_state(now + timedelta(minutes=5), None, True, now) == OPEN

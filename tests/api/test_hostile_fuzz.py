"""Fuzzing the writing routes with hostile money, date-times, deep nesting and unicode: never a
5xx, always the envelope, and never more than a second of CPU for one request."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import incident_payload
from tests.factories import decision_row, default_document, set_pool, store

CPU_BOUND = 1.0
FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written to the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MONEY = st.one_of(
    st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,8})?([eE][-+]?[0-9]{1,7})?", fullmatch=True),
    st.sampled_from(["1E+999999", "1e400", "9e18", "NaN", "-Infinity", "1_000", " 1 ", "0x1"]),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=12),  # any script's digits
    st.text(max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
MOMENT = st.one_of(
    st.builds(
        lambda moment, minutes: moment.replace(
            tzinfo=timezone(timedelta(minutes=minutes))
        ).isoformat(),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        st.integers(min_value=-1439, max_value=1439),
    ),
    st.sampled_from(["9999-12-31T23:59:59+14:00", "0001-01-01T00:49:56+11:16", "2026-13-01"]),
    st.text(max_size=40),
    st.integers(),
)
TEXT = st.text(max_size=80)  # unicode of every category, surrogates excluded by JSON
SCALAR = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


def nested(depth: int) -> str:
    """A JSON document `depth` levels deep, alternating arrays and objects."""
    opening = "".join('{"a": ' if level % 2 else "[" for level in range(depth))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(depth)))
    return opening + "1" + closing


@pytest.fixture
def send(client, auth):
    """Send JSON (or raw text) as a role; assert no 5xx, the envelope, and a bounded CPU time."""

    def call(method: str, path: str, role: str, body: Any = None, raw: str | None = None):
        headers = auth(role)
        started = time.process_time()
        if raw is None:
            response = client.open(path, method=method, json=body, headers=headers)
        else:
            headers["Content-Type"] = "application/json"
            response = client.open(path, method=method, data=raw, headers=headers)
        spent = time.process_time() - started
        assert response.status_code < 500, (response.status_code, response.json)
        if response.status_code >= 400:
            assert response.json["code"] == response.status_code
            assert isinstance(response.json["errors"], dict)
        assert spent < CPU_BOUND, f"{method} {path}: {spent:.2f} s of CPU"
        return response

    return call


@FUZZ
@given(
    loss=MONEY,
    value=MONEY,
    churn=SCALAR,
    customer=TEXT,
    category=TEXT,
    locale=TEXT,
    depth=st.integers(min_value=1, max_value=3000),
)
def test_recommendations(send, loss, value, churn, customer, category, locale, depth):
    incident = incident_payload(
        loss_amount=loss,
        customer_value=value,
        churn_threat=churn,
        customer_id=customer,
        category=category,
        locale=locale,
    )
    send("POST", "/v1/recommendations", "agent", {"incident": incident})
    send("POST", "/v1/recommendations", "agent", raw=nested(depth))


@pytest.fixture
def reserved(app, client, auth):
    """A decision in JPY with its plan reserved, to fulfil."""
    set_pool(app, "emea", "100000", "JPY")
    (decision_id,) = store(app, decision_row({"apology+gift_1x": ("1000", False)}, currency="JPY"))
    accepted = client.post(
        f"/v1/decisions/{decision_id}/accept",
        json={"plan_id": "apology+gift_1x"},
        headers=auth(),
    )
    assert accepted.status_code == 200, accepted.json
    return decision_id


@FUZZ
@given(cost=MONEY, currency=SCALAR, depth=st.integers(min_value=1, max_value=3000))
def test_fulfil(send, reserved, cost, currency, depth):
    path = f"/v1/decisions/{reserved}/fulfil"
    response = send("POST", path, "agent", {"actual_cost": cost, "currency": currency})
    if response.status_code < 300:  # a plain cost went through: put the decision back
        send("POST", f"/v1/decisions/{reserved}/cancel", "agent", {})
    send("POST", path, "agent", raw=nested(depth))


@FUZZ
@given(
    absolute=MONEY,
    threshold=MONEY,
    factor=MONEY,
    effective_at=MOMENT,
    currency=TEXT,
)
def test_caps(send, absolute, threshold, factor, effective_at, currency):
    caps = default_document("caps")
    caps["incident_caps"]["default"]["absolute"]["EUR"] = absolute
    caps["approvals"]["agent_up_to"][currency or "EUR"] = threshold
    caps["incident_caps"]["default"]["loss_multiple"] = factor
    caps["effective_at"] = effective_at
    response = send("PUT", "/v1/caps", "finance", caps)
    if response.status_code == 200:  # whatever was taken, recommendations still work
        recommended = send("POST", "/v1/recommendations", "agent", {"incident": incident_payload()})
        assert recommended.status_code in (201, 422), recommended.json


@FUZZ
@given(limit=MONEY, currency=SCALAR, period=SCALAR, effective_at=MOMENT, team=TEXT)
def test_budgets(send, limit, currency, period, effective_at, team):
    body = {"limit": limit, "currency": currency, "period": period, "effective_at": effective_at}
    send("PUT", "/v1/budgets/emea", "finance", body)
    safe_team = "".join(c for c in team if c.isascii() and c.isalnum())[:20] or "t"
    send("PUT", f"/v1/budgets/{safe_team}", "finance", {**body, "effective_at": None})


@FUZZ
@given(
    start=MOMENT,
    end=MOMENT,
    limit=MONEY,
    values=st.lists(st.one_of(MONEY, TEXT), min_size=1, max_size=5),
    depth=st.integers(min_value=1, max_value=3000),
)
def test_simulate(send, start, end, limit, values, depth):
    today = datetime.now(UTC).date()
    pools = [{"team": "default", "currency": "EUR", "period": "month", "limit": limit}]
    sweep = {"path": "incident_caps.default.absolute.EUR", "values": values}
    body = {"from": start, "to": end, "pools": pools, "sweep": sweep}
    send("POST", "/v1/budgets/simulate", "finance", body)
    calm = {"from": str(today), "to": str(today + timedelta(days=1))}
    send("POST", "/v1/budgets/simulate", "finance", {**calm, "pools": pools, "sweep": sweep})
    send("POST", "/v1/budgets/simulate", "finance", raw=nested(depth))


# Text with lone surrogates among other characters (JSON escapes them as "\ud800"; two that
# happen to pair up decode as one character), and integers longer than Python converts.
SURROGATES = st.lists(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
    max_size=20,
).map("".join)


def _unencodable(text: str) -> bool:
    try:
        json.loads(json.dumps(text)).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@FUZZ
@given(customer=SURROGATES, category=SURROGATES, digits=st.integers(min_value=1, max_value=6000))
def test_recommendations_with_surrogates_and_long_integers(send, customer, category, digits):
    """The hardening issue, finding 6: never a 500 (UnicodeEncodeError, int conversion), but
    422 naming each field that holds one."""
    incident = incident_payload(customer_id=customer, category=category)
    raw = json.dumps({"incident": incident, "limit": "LIMIT"}).replace('"LIMIT"', "7" * digits)
    response = send("POST", "/v1/recommendations", "agent", raw=raw)
    expected = {
        name
        for name, bad in (
            ("incident.customer_id", _unencodable(customer)),
            ("incident.category", _unencodable(category)),
            ("limit", digits > 100),
        )
        if bad
    }
    if expected:
        assert response.status_code == 422, response.json
        assert expected <= set(response.json["errors"]), response.json

"""Exploration shows another top plan first now and then, and logs the propensity."""

from decimal import Decimal

import pytest

from tests.conftest import incident_payload

ALWAYS = {"EXPLORATION_RATE": Decimal("1"), "EXPLORATION_TOP_K": 3}


def post(client, auth):
    return client.post(
        "/v1/recommendations", json={"incident": incident_payload(), "limit": 3}, headers=auth()
    ).json


def test_without_exploration_the_best_plan_is_first_with_propensity_one(client, auth):
    body = post(client, auth)
    assert body["propensity"] == "1"
    assert body["plans"][0]["rank"] == 0


@pytest.mark.parametrize("app", [ALWAYS], indirect=True)
def test_exploration_logs_the_probability_of_the_plan_shown_first(client, auth):
    seen = set()
    for _ in range(30):
        body = post(client, auth)
        first = body["plans"][0]["rank"]
        seen.add(first)
        assert first < 3
        # rate 1, K 3: each of the top three is shown first with probability 1/3
        assert body["propensity"] == "0.333333333333"
        if first:
            # The agent reads plain words; the probability stays in the data.
            assert "exploring" in {n["code"] for n in body["note_codes"]}
            assert any("trying out" in note for note in body["notes"])
            assert not any("probability" in note for note in body["notes"])
            assert body["plans"][1]["rank"] == 0  # the best plan follows
    assert seen == {0, 1, 2}

"""The promises' clock: counted from when the customer complained, said when already late, and
stored with the incident (older records read it as the decision's time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remedy.decisions.caps import Promises
from remedy.decisions.stored import incident_from_json, incident_to_json
from remedy.decisions.talking_points import Clock, talking_points
from tests.factories import default_engine, make_incident

REPORTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def clock(minutes_later: float, **incident) -> Clock:
    """The default promises' clock of an incident reported at REPORTED, read later."""
    at = REPORTED + timedelta(minutes=minutes_later)
    return Clock.of(make_incident(reported_at=REPORTED, **incident), Promises(), at)


def test_the_deadlines_count_from_the_complaint():
    late = clock(50, severity=2, fault_type="company")
    assert late.respond_by == REPORTED + timedelta(minutes=30)
    assert late.fix_by == REPORTED + timedelta(hours=1)
    assert late.answer_overdue and not late.fix_overdue
    severe = clock(20, severity=4)
    assert severe.respond_by == REPORTED + timedelta(minutes=15) and severe.answer_overdue
    assert clock(10, fault_type="customer").fix_by is None  # no fix is promised


def test_exactly_at_the_deadline_is_not_late_a_second_after_is():
    assert not clock(30).answer_overdue
    assert clock(30 + 1 / 60).answer_overdue


@pytest.mark.parametrize(
    ("minutes", "said"),
    [
        (0.2, 60),  # under a minute still reads as a minute
        (50.9, 50 * 60),
        (119, 119 * 60),
        (150, 2 * 3600),
        (47 * 60 + 59, 47 * 3600),
        (3 * 24 * 60 + 100, 3 * 86400),
    ],
)
def test_the_wait_is_said_in_whole_units_a_person_uses(minutes, said):
    assert clock(minutes).waited_said == said


def test_the_notes_and_talking_points_say_a_late_answer_and_a_late_fix():
    late = clock(90, severity=2, fault_type="company")
    codes = [n.code for n in late.notes()]
    assert codes == ["answer_overdue", "fix_overdue"]
    assert clock(10).notes() == []
    engine = default_engine()
    incident = make_incident(reported_at=REPORTED, severity=2, loss_amount="60.00")
    plan = engine.decide(incident).kept[0].scored.plan
    said = talking_points(incident, plan, Promises(), REPORTED + timedelta(minutes=90))
    assert said["respond_by"] == "2026-03-02T09:30:00+00:00"
    assert said["fix_by"] == "2026-03-02T10:00:00+00:00"
    point_codes = [p.code for p in said["points"]]
    assert point_codes[:2] == ["point_acknowledge", "point_waited"]
    assert "point_fix_whole_late" in point_codes and "point_fix_whole" not in point_codes
    on_time = talking_points(incident, plan, Promises(), REPORTED + timedelta(minutes=5))
    assert "point_waited" not in [p.code for p in on_time["points"]]
    assert "point_fix_whole" in [p.code for p in on_time["points"]]


def test_the_stored_incident_keeps_reported_at_and_an_older_one_reads_the_decisions_time():
    incident = make_incident(reported_at=REPORTED)
    stored = incident_to_json(incident)
    assert stored["reported_at"] == "2026-03-02T09:00:00+00:00"
    assert incident_from_json(stored) == incident
    del stored["reported_at"]
    made = datetime(2026, 3, 2, 9, 40)  # SQLite hands the decision's time back without a zone
    assert incident_from_json(stored, made).reported_at == made.replace(tzinfo=UTC)
    assert incident_from_json(stored).reported_at is None

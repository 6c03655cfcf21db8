"""A stored decision's deadlines: read from its talking points (respond_by, fix_by), or counted
from reported_at by the promised durations for records that kept only those; the scan's reader
(from two columns) and the whole record's agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from remedy.decisions.deadlines import deadlines, deadlines_from_columns
from remedy.decisions.record import DecisionRecord, Presentation
from tests.factories import decision_row, make_incident

REPORTED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def _row(points_by_plan: dict[str, dict], accepted: str | None = None):
    row = decision_row({plan: ("50.00", False) for plan in points_by_plan})
    made = DecisionRecord.of(row)
    DecisionRecord(
        incident=make_incident(reported_at=REPORTED),
        cap=made.cap,
        fired_rules=[],
        excluded_items={},
        notes=[],
        priced_items=made.priced_items,
        candidates=made.candidates,
        shown=made.shown,
        presentation={p: Presentation([], points) for p, points in points_by_plan.items()},
    ).attach(row)
    row.created_at = REPORTED + timedelta(minutes=5)
    row.accepted_plan_id = accepted
    return row


def _both(row):
    columns = DecisionRecord.of(row).columns()
    scanned = deadlines_from_columns(
        columns["incident"], columns["presentation"], row.accepted_plan_id, row.created_at
    )
    whole = deadlines(row)
    assert scanned == whole
    return whole


def test_the_accepted_plans_talking_points_say_when():
    fix_by = (REPORTED + timedelta(minutes=45)).isoformat()
    row = _row(
        {
            "apology": {"respond_by": REPORTED.isoformat(), "fix_by": REPORTED.isoformat()},
            "apology+gift_1x": {"respond_by": REPORTED.isoformat(), "fix_by": fix_by},
        },
        accepted="apology+gift_1x",
    )
    promised = _both(row)
    assert promised.fix_by == REPORTED + timedelta(minutes=45)
    assert promised.fix_window_seconds == 45 * 60 and promised.reported_at == REPORTED


def test_older_records_count_the_promised_durations_from_reported_at():
    row = _row({"apology": {"respond_within": "PT30M", "fix_within": "PT1H"}})
    promised = _both(row)
    assert promised.respond_by == REPORTED + timedelta(minutes=30)
    assert promised.fix_by == REPORTED + timedelta(hours=1)


def test_no_fix_promised_is_none():
    promised = _both(_row({"apology": {"respond_within": "PT30M"}}))
    assert promised.fix_by is None and promised.fix_window_seconds is None

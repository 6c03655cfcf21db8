"""Budget periods in UTC: exact bounds, keys, elapsed shares and moments (values written out)."""

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from remedy.ledger.periods import day_key, period_at
from remedy.moments import as_utc, parse_moment

PLUS_TWO = timezone(timedelta(hours=2))


def test_a_month_runs_from_its_first_to_the_next_months_first_in_utc():
    november = period_at("month", datetime(2026, 11, 15, 9, tzinfo=UTC))
    assert november.kind == "month" and november.key == "2026-11"
    assert november.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert november.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert november.start.tzinfo is UTC and november.end.tzinfo is UTC
    december = period_at("month", datetime(2026, 12, 1, tzinfo=UTC))
    assert december.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_an_iso_week_runs_monday_to_monday():
    week = period_at("week", datetime(2026, 11, 26, 18, tzinfo=UTC))  # a Thursday
    assert week.kind == "week" and week.key == "2026-W48"
    assert week.start == datetime(2026, 11, 23, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 30, tzinfo=UTC)


def test_the_period_of_a_moment_is_taken_in_utc():
    # 00:30 on 1 December in UTC+2 is still 30 November in UTC.
    month = period_at("month", datetime(2026, 12, 1, 0, 30, tzinfo=PLUS_TWO))
    assert month.key == "2026-11"
    # SQLite hands back naive moments, in UTC.
    assert period_at("month", datetime(2026, 12, 1, 0, 30)).key == "2026-12"


def test_elapsed_share_is_bounded_by_the_period():
    month = period_at("month", datetime(2026, 11, 1, tzinfo=UTC))  # 30 days
    assert month.elapsed_share(datetime(2026, 11, 16, tzinfo=UTC)) == 0.5
    assert month.elapsed_share(datetime(2026, 10, 1, tzinfo=UTC)) == 0.0
    assert month.elapsed_share(datetime(2027, 1, 1, tzinfo=UTC)) == 1.0


def test_as_utc_keeps_the_instant():
    assert as_utc(datetime(2026, 11, 1, 2, tzinfo=PLUS_TWO)) == datetime(2026, 11, 1, tzinfo=UTC)
    assert as_utc(datetime(2026, 11, 1, 2, tzinfo=PLUS_TWO)).tzinfo is UTC
    assert as_utc(datetime(2026, 11, 1, 2)).hour == 2
    assert as_utc(datetime(2026, 11, 1, 2)).tzinfo is UTC
    assert day_key(datetime(2026, 11, 1, 1, tzinfo=PLUS_TWO)) == "2026-10-31"


def test_unknown_periods_are_named():
    with pytest.raises(ValueError) as raised:
        period_at("fortnight", datetime(2026, 1, 1, tzinfo=UTC))
    assert str(raised.value) == "unknown period 'fortnight'; use one of week, month"


def test_moments_are_dates_at_utc_midnight_or_date_times_with_a_zone():
    assert parse_moment("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment(" 2026-11-01 ").tzinfo is UTC
    assert parse_moment("2026-11-01T10:00:00+02:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_moment("2026-11-01T10:00:00+02:00").tzinfo is UTC
    assert parse_moment("2026-11-01T10:00Z") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError) as raised:
        parse_moment("2026-11-01T10:00:00")
    assert str(raised.value) == "a date-time needs a zone"
    with pytest.raises(ValueError):
        parse_moment("2026-13-01")


def test_naive_moments_are_utc_whatever_the_machine_zone(monkeypatch):
    """SQLite's naive moments are UTC; astimezone would read them in the machine's zone."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert as_utc(datetime(2026, 11, 1, 2)) == datetime(2026, 11, 1, 2, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_moments_are_read_stored_and_written_in_utc_in_one_place():
    from remedy.moments import MomentError, iso_utc, read_moment, to_stored

    assert read_moment("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert read_moment("2026-11-01T02:00:00+02:00") == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(MomentError):
        read_moment("0001-01-01T00:49:56+11:16")  # year 0 once in UTC
    with pytest.raises(MomentError):
        read_moment("1969-12-31")
    with pytest.raises(ValueError, match="zone"):
        read_moment("2026-11-01T02:00:00")
    assert iso_utc(datetime(2026, 11, 1, 2, tzinfo=PLUS_TWO)) == "2026-11-01T00:00:00+00:00"
    assert iso_utc(datetime(2026, 11, 1)) == "2026-11-01T00:00:00+00:00" and iso_utc(None) is None
    assert to_stored(datetime(2026, 11, 1, 2, tzinfo=PLUS_TWO)) == datetime(2026, 11, 1, tzinfo=UTC)

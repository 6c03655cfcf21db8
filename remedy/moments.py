"""Time, in one home: the clock, date-times as they enter, as they are stored, as they leave.

Every layer reads time through here: `utcnow` (the clock, a callable for row defaults),
`to_utc` (a date-time that enters: zone required, range checked), `parse_moment` and
`read_moment` (text that enters: a date or a date-time with a zone), `as_utc` (a stored moment:
SQLite hands them back naive, in UTC), and `iso_utc` (a moment that leaves, as ISO 8601 in UTC).
The database column (remedy/store/tables.py), the catalog's and the API's marshmallow fields
(catalog/validation.py, remedy/api/fields.py) and the ledger's periods are thin wrappers of
these functions.

Date-times as they enter: with a zone, and inside the range every computation can reach.

A date-time that is valid where it was written may not be once moved to UTC
("0001-01-01T00:49:56+11:16" is in year 0; "9999-12-31T23:59:59-14:00" in year 10000), and one
valid in UTC may still overflow a step later (the end of the month of 9999-12-31). Every
date-time that enters is therefore moved to UTC here and must fall in [EARLIEST, LATEST): no
remedy predates 1970, and seven thousand years of headroom keep period ends, customer windows
and reservation expiries far from datetime's year 9999.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "must be from 1970-01-01T00:00:00Z up to (not including) 9000-01-01T00:00:00Z"


class MomentError(ValueError):
    """A date-time without a zone, or outside the accepted range once in UTC."""


def to_utc(moment: datetime) -> datetime:
    """Return an aware `moment` in UTC; raise MomentError when it has no zone or is out of range."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MomentError("a date-time needs a zone")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        raise MomentError(OUT_OF_RANGE) from None
    if not EARLIEST <= utc < LATEST:
        raise MomentError(OUT_OF_RANGE)
    return utc


def utcnow() -> datetime:
    """Return the current time in UTC (a callable, so defaults are evaluated per row)."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime (SQLite hands back naive ones, in UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime | None) -> str | None:
    """Write a stored moment as ISO 8601 in UTC with its zone (None stays None)."""
    return as_utc(moment).isoformat() if moment is not None else None


def to_stored(moment: datetime | None) -> datetime | None:
    """A moment as the database keeps it: in UTC when it has a zone (naive ones are UTC)."""
    if moment is not None and moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment


def parse_moment(text: str) -> datetime:
    """Parse 'YYYY-MM-DD' (UTC midnight) or an ISO 8601 date-time with a zone, as UTC.

    Raises ValueError for text that is neither, or a date-time without a zone, and
    OverflowError when moving to UTC leaves datetime's range."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a date-time needs a zone")  # not a moment we read: the caller's words
    return moment.astimezone(UTC)


def read_moment(text: str) -> datetime:
    """Parse text that enters (a date or a date-time with a zone) and check its range.

    Raises MomentError for a moment out of range or without a zone, ValueError for text that
    is not a date or a date-time at all."""
    try:
        return to_utc(parse_moment(text))
    except OverflowError:  # moved to UTC, it left datetime's range
        raise MomentError(OUT_OF_RANGE) from None

"""Date-times as they enter: with a zone, and inside the range every computation can reach.

A date-time that is valid where it was written may not be once moved to UTC
("0001-01-01T00:49:56+11:16" is in year 0; "9999-12-31T23:59:59-14:00" in year 10000), and one
valid in UTC may still overflow a step later (the end of the month of 9999-12-31). Every
date-time that enters is therefore moved to UTC here and must fall in [EARLIEST, LATEST): no
remedy predates 1970, and seven thousand years of headroom keep period ends, customer windows
and reservation expiries far from datetime's year 9999.
"""

from __future__ import annotations

from datetime import UTC, datetime

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

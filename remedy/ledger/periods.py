"""Budget periods: a pool's month or ISO week, in UTC, with a stable key ('2026-11', '2026-W47')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from remedy.moments import as_utc

PERIODS = ("week", "month")


@dataclass(frozen=True)
class Period:
    """One budget period: [start, end) in UTC and its key."""

    kind: str
    key: str
    start: datetime
    end: datetime

    def elapsed_share(self, at: datetime) -> float:
        """Return how much of the period has passed at `at`, from 0 to 1."""
        total = (self.end - self.start).total_seconds()
        passed = (as_utc(at) - self.start).total_seconds()
        return min(1.0, max(0.0, passed / total))


def period_at(kind: str, at: datetime) -> Period:
    """Return the period of `kind` ('week' or 'month') that holds the moment `at`."""
    at = as_utc(at)
    if kind == "month":
        start = datetime(at.year, at.month, 1, tzinfo=UTC)
        end = datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)
        return Period(kind, f"{at.year:04d}-{at.month:02d}", start, end)
    if kind == "week":
        monday = date(at.year, at.month, at.day) - timedelta(days=at.weekday())
        start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
        year, week, _ = monday.isocalendar()
        return Period(kind, f"{year:04d}-W{week:02d}", start, start + timedelta(days=7))
    raise ValueError(f"unknown period {kind!r}; use one of {', '.join(PERIODS)}")


def period_kind(key: str) -> str:
    """Tell which kind of period a key names ('2026-W47' is a week, '2026-11' a month)."""
    return "week" if "-W" in key else "month"


def day_key(at: datetime) -> str:
    """Return the UTC calendar day of `at` as 'YYYY-MM-DD' (contact capacity is per day)."""
    return as_utc(at).date().isoformat()


# A change scheduled "now" by a client whose clock runs a little behind ours is still accepted.
EFFECTIVE_AT_GRACE = timedelta(seconds=60)

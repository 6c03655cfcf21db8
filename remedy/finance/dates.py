"""Parse the ends of a reporting range."""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_moment(text: str) -> datetime:
    """Parse 'YYYY-MM-DD' (UTC midnight) or an ISO 8601 date-time with a zone, as UTC."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("a date-time needs a zone")
    return moment.astimezone(UTC)

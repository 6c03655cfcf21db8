"""When a stored decision's promises fall due: the answer (`respond_by`) and the fix (`fix_by`).

One home for reading the deadlines back from a stored decision, so the approval queue, the
incidents at risk and a customer's history measure against the same moments the talking points
promised. The talking points carry them as UTC times (`respond_by`, `fix_by`); decisions stored
before that carry only the durations (`respond_within`, `fix_within`), counted from the
incident's `reported_at` (the decision's own time when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from remedy.decisions.durations import duration_seconds
from remedy.decisions.record import DecisionRecord, Presentation
from remedy.moments import as_utc


@dataclass(frozen=True)
class Deadlines:
    """A decision's promised moments (UTC); `fix_by` None when no fix is promised (the
    customer's own fault)."""

    reported_at: datetime
    respond_by: datetime | None
    fix_by: datetime | None

    @property
    def fix_window_seconds(self) -> int | None:
        """Seconds from the complaint to the promised fix (None: no fix promised)."""
        if self.fix_by is None:
            return None
        return max(0, int((self.fix_by - self.reported_at).total_seconds()))


def deadlines(decision: Any, record: DecisionRecord | None = None) -> Deadlines:
    """The promised moments of a stored `decision` (a `Decision` row): its accepted plan's
    talking points, else its first shown plan's (every plan promises the same)."""
    record = record or DecisionRecord.of(decision)
    presentations = record.presentation
    accepted = presentations.get(decision.accepted_plan_id or "")
    points = accepted or next(iter(presentations.values()), None) or Presentation([], {})
    said = points.talking_points
    reported = as_utc(record.incident.reported_at or decision.created_at)
    return Deadlines(
        reported,
        _moment(said, "respond_by", "respond_within", reported),
        _moment(said, "fix_by", "fix_within", reported),
    )


def _moment(said: dict[str, Any], at: str, within: str, reported: datetime) -> datetime | None:
    """A deadline as stored, or counted from `reported` by its duration (older records)."""
    if said.get(at):
        return as_utc(datetime.fromisoformat(said[at]))
    if not said.get(within):
        return None
    return reported + timedelta(seconds=duration_seconds(said[within]))

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
from remedy.decisions.stored import incident_from_json
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
    points = _points(record.presentation, decision.accepted_plan_id)
    return _deadlines(points, record.incident.reported_at or decision.created_at)


def deadlines_from_columns(
    incident: dict[str, Any],
    presentation: dict[str, Any] | None,
    accepted_plan_id: str | None,
    created_at: datetime,
) -> Deadlines:
    """The same from a decision's `incident` and `presentation` columns alone, for a scan over
    many decisions that should not read (or parse) their candidates."""
    stored = presentation or {}
    chosen = stored.get(accepted_plan_id or "") or next(iter(stored.values()), None)
    shown = {} if chosen is None else {"": Presentation.from_json(chosen)}  # that plan only
    reported = incident_from_json(incident, created_at).reported_at or created_at
    return _deadlines(_points(shown, None), reported)


def _points(shown: dict[str, Presentation], accepted_plan_id: str | None) -> dict[str, Any]:
    """The talking points that carry the promises: the accepted plan's, else the first's."""
    accepted = shown.get(accepted_plan_id or "")
    return (accepted or next(iter(shown.values()), None) or Presentation([], {})).talking_points


def _deadlines(said: dict[str, Any], reported_at: datetime) -> Deadlines:
    """Deadlines from talking points, counted from `reported_at` where only durations were
    stored."""
    reported = as_utc(reported_at)
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

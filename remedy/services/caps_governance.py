"""Which caps override governs each slice of incidents, and which term bound the logged ones.

Reads the active caps and the decisions logged in a range (a team-scoped key: its team's only);
writes nothing. The slices themselves are computed by remedy/decisions/governing.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.governing import governing
from remedy.decisions.record import incident_from_json
from remedy.services.configs import ConfigService
from remedy.services.reports import check_range
from remedy.store.scoping import in_team
from remedy.store.tables import Decision


class CapsGovernance:
    """Explains the active caps per severity and fault type."""

    def __init__(self, session: Session) -> None:
        """Read through `session`."""
        self.session = session

    def slices(self, start: datetime, end: datetime, team: str | None = None) -> dict[str, Any]:
        """Return the active caps version and, per slice, term sources and binding counts over
        the incidents decided in [start, end)."""
        check_range(start, end)
        row = ConfigService(self.session).document("caps")
        caps = ConfigService(self.session).load_active().caps
        incidents = self.session.scalars(
            sa.select(Decision.incident)
            .where(Decision.created_at >= start, Decision.created_at < end)
            .where(in_team(team))
            .execution_options(yield_per=1000)
        )
        found = governing(caps, (incident_from_json(data) for data in incidents))
        return {
            "version": row.version,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "slices": [s.as_dict() for s in found],
        }

"""Team scope for lists: the one filter every service applies for a team-scoped key.

A key scoped to a team sees only its team's rows; an unscoped key (team None) sees them all.
Every list a scoped key can read (reports, caps governance, what-ifs, approval queues, the
audit log, a decision's steps) is filtered here, so the rule is written once and a new list
cannot forget half of it: `select(...).where(in_team(team))`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.store.tables import ApiKey, AuditEntry, Decision


def in_team(team: str | None, column: Any = Decision.team) -> sa.ColumnElement[bool]:
    """The condition that keeps `team`'s rows by `column` (a decision's team unless given);
    `team` None (an unscoped key) keeps every row."""
    return sa.true() if team is None else column == team


def by_team_keys(team: str | None) -> sa.ColumnElement[bool]:
    """The condition that keeps audit entries made by `team`'s keys (None: every entry)."""
    if team is None:
        return sa.true()
    return AuditEntry.actor.in_(sa.select(ApiKey.prefix).where(in_team(team, ApiKey.team)))


def decision_team(session: Session, decision_id: str) -> str | None:
    """The team a decision belongs to (None: no such decision)."""
    return session.scalar(sa.select(Decision.team).where(Decision.id == decision_id))

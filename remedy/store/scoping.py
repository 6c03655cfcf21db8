"""Team scope for lists: the one filter every service applies for a team-scoped key.

A key scoped to a team sees only its team's rows; an unscoped key (team None) sees them all.
Every list a scoped key can read (reports, caps governance, what-ifs, approval queues, the
audit log, a decision's steps) is filtered here, so the rule is written once and a new list
cannot forget half of it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.store.tables import Decision

Statement = TypeVar("Statement", bound=sa.Select[Any])


def team_scoped(statement: Statement, team: str | None, column: Any = Decision.team) -> Statement:
    """Limit `statement` to the rows of `team` by `column` (a decision's team unless given);
    `team` None (an unscoped key) leaves it whole."""
    return statement if team is None else statement.where(column == team)


def decision_team(session: Session, decision_id: str) -> str | None:
    """The team a decision belongs to (None: no such decision)."""
    return session.scalar(sa.select(Decision.team).where(Decision.id == decision_id))

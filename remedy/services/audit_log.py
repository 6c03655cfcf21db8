"""Reading the audit log: newest first, paged by id, within the reader's team scope."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.store.scoping import by_team_keys
from remedy.store.tables import AuditEntry


class AuditLog:
    """Pages of audit entries (writing them is remedy/store/audit.py's `record`)."""

    def __init__(self, session: Session) -> None:
        """Read through `session`."""
        self.session = session

    def page(
        self,
        team: str | None,
        limit: int,
        entity: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """The `limit` newest entries (of `entity` kind, older than `before_id`, when given);
        a team-scoped reader (`team`) reads only what its team's keys did."""
        statement = (
            sa.select(AuditEntry)
            .where(by_team_keys(team))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        if entity is not None:
            statement = statement.where(AuditEntry.entity == entity)
        if before_id is not None:
            statement = statement.where(AuditEntry.id < before_id)
        return list(self.session.scalars(statement))

"""The audit log: every change to rules, catalog, caps, budgets, keys and models lands here."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from remedy.store.tables import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry in the caller's transaction."""
    entry = AuditEntry(
        actor=actor, action=action, entity=entity, entity_id=entity_id, before=before, after=after
    )
    session.add(entry)
    return entry

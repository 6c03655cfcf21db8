"""Mass incidents: one failure declared once for many customers.

A mass incident's customers are decided as a job and reserved in chunks, one transaction each
(remedy/services/mass_incidents.py); a chunk's state is written in the transaction that
reserves it, which is what makes a worker's crash resumable without reserving anyone twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, BigId, Timestamp, new_id, utcnow


class MassIncident(Base):
    """The shared incident (fields every customer has in common) and where the whole stands:
    `deciding` -> `ready` (every customer decided: the total is shown against the pool) ->
    `reserving` (approved) -> `reserved` or `partly_reserved` (the pool ran out); or `failed`."""

    __tablename__ = "mass_incidents"
    __table_args__ = (sa.Index("ix_mass_incidents_team_created_at", "team", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    team: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(24))
    incident: Mapped[dict[str, Any]] = mapped_column()
    customers: Mapped[int] = mapped_column()
    chunk_size: Mapped[int] = mapped_column()
    # Who approves it (lead or finance), known once every customer is decided.
    tier: Mapped[str | None] = mapped_column(sa.String(16))
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    decide_job_id: Mapped[str | None] = mapped_column(sa.String(32))
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    approved_by: Mapped[str | None] = mapped_column(sa.String(64))
    approved_role: Mapped[str | None] = mapped_column(sa.String(16))
    approved_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    reserve_job_id: Mapped[str | None] = mapped_column(sa.String(32))
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)


class MassIncidentCustomer(Base):
    """One affected customer: its own fields (row `row` of the request), the decision made for
    it and the plan chosen (cost and fix part in minor units), and its state: `pending`,
    `decided`, `reserved`, `refused` (a limit, named in `reason`) or `skipped` (its decision
    was no longer proposed: an agent took it over)."""

    __tablename__ = "mass_incident_customers"
    __table_args__ = (
        sa.UniqueConstraint("mass_incident_id", "row", name="uq_mass_incident_customers_row"),
        sa.Index("ix_mass_incident_customers_chunk", "mass_incident_id", "chunk", "row"),
        sa.Index("ix_mass_incident_customers_state", "mass_incident_id", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    mass_incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("mass_incidents.id", name="fk_mass_incident_customers_mass_incident")
    )
    row: Mapped[int] = mapped_column()
    chunk: Mapped[int] = mapped_column()
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    fields: Mapped[dict[str, Any]] = mapped_column()
    currency: Mapped[str] = mapped_column(sa.String(3))
    state: Mapped[str] = mapped_column(sa.String(16))
    decision_id: Mapped[str | None] = mapped_column(sa.String(32))
    plan_id: Mapped[str | None] = mapped_column(sa.String(255))
    approver: Mapped[str | None] = mapped_column(sa.String(16))
    cost_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    fix_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    contact_level: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))


class MassIncidentChunk(Base):
    """A chunk of customers reserved in one transaction: `pending`, `reserved` (each of its
    customers reserved or refused for a limit of their own) or `refused` (the pool ran out:
    nothing of it was reserved)."""

    __tablename__ = "mass_incident_chunks"

    mass_incident_id: Mapped[str] = mapped_column(
        sa.ForeignKey("mass_incidents.id", name="fk_mass_incident_chunks_mass_incident"),
        primary_key=True,
    )
    chunk: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    reserved: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    refused: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    done_at: Mapped[datetime | None] = mapped_column(Timestamp)

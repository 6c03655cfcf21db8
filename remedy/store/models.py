"""Typed ORM models. They hold data only: services flush, the unit of work commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Return the current time in UTC (a callable, so defaults are evaluated per row)."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new random id for a public resource."""
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints stably."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


Timestamp = sa.DateTime(timezone=True)


class ApiKey(Base):
    """An API key: only its SHA-256 is stored; the prefix identifies it in lists and logs."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    team: Mapped[str | None] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class ConfigVersion(Base):
    """One version of the catalog, the rules or the caps; the highest version is active."""

    __tablename__ = "config_versions"
    __table_args__ = (sa.UniqueConstraint("kind", "version", name="uq_config_kind_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int] = mapped_column()
    document: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))


class AuditEntry(Base):
    """Who changed what, when, with the old and new values."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(64))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_id: Mapped[str] = mapped_column(sa.String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class Decision(Base):
    """A recommendation as made: inputs, versions, the cap, and every candidate with its score."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    customer_id: Mapped[str] = mapped_column(sa.String(128), index=True)
    external_id: Mapped[str | None] = mapped_column(sa.String(128))
    team: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    severity: Mapped[int] = mapped_column()
    fault_type: Mapped[str] = mapped_column(sa.String(16))
    incident: Mapped[dict[str, Any]] = mapped_column()
    cap: Mapped[dict[str, Any]] = mapped_column()
    fired_rules: Mapped[list[Any]] = mapped_column()
    excluded_items: Mapped[dict[str, Any]] = mapped_column()
    notes: Mapped[list[Any]] = mapped_column()
    shown: Mapped[list[Any]] = mapped_column()  # plan ids in the order shown
    catalog_version: Mapped[int] = mapped_column()
    rules_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    model_version: Mapped[str] = mapped_column(sa.String(64))
    propensity: Mapped[str] = mapped_column(sa.String(24), default="1")
    status: Mapped[str] = mapped_column(sa.String(24), default="proposed")
    requested_by: Mapped[str] = mapped_column(sa.String(16))

    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="decision", order_by="Candidate.rank", cascade="all, delete-orphan"
    )


class Candidate(Base):
    """One candidate plan of a decision, with its score and what the guardrails did with it."""

    __tablename__ = "decision_candidates"
    __table_args__ = (sa.UniqueConstraint("decision_id", "plan_id", name="uq_candidate_plan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), index=True)
    rank: Mapped[int] = mapped_column()  # position among all candidates by expected net value
    shown_position: Mapped[int | None] = mapped_column()  # 0 = shown first
    plan_id: Mapped[str] = mapped_column(sa.String(200))
    actions: Mapped[list[Any]] = mapped_column()
    total_cost_minor: Mapped[int] = mapped_column(sa.BigInteger)
    total_value_minor: Mapped[int] = mapped_column(sa.BigInteger)
    expected_net_value_minor: Mapped[int] = mapped_column(sa.BigInteger)
    p_stay: Mapped[str] = mapped_column(sa.String(24))
    referrals: Mapped[str] = mapped_column(sa.String(24))
    requires_approval: Mapped[bool] = mapped_column(default=False)
    dropped_reason: Mapped[str | None] = mapped_column(sa.Text)
    reasons: Mapped[list[Any]] = mapped_column()
    talking_points: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    decision: Mapped[Decision] = relationship(back_populates="candidates")

"""Typed ORM models. They hold data only: services flush, the unit of work commits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


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


class UtcDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite hands back naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None


Timestamp = UtcDateTime()


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
    """A recommendation as made: inputs, versions, the cap, and every candidate with its score.

    Candidates are kept as one compact JSON list on the row (plan id, item ids, cost, value,
    scores, what the guardrails did) with the priced items once beside them: one insert per
    decision instead of hundreds, and still everything an audit, a replay or training needs.
    """

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
    priced_items: Mapped[dict[str, Any]] = mapped_column()  # item id -> kind, level, label, ...
    candidates: Mapped[list[Any]] = mapped_column()  # every candidate, by expected net value
    shown: Mapped[list[Any]] = mapped_column()  # plan ids in the order shown
    presentation: Mapped[dict[str, Any]] = (
        mapped_column()
    )  # shown plan id -> reasons, talking points
    catalog_version: Mapped[int] = mapped_column()
    rules_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    model_version: Mapped[str] = mapped_column(sa.String(64))
    propensity: Mapped[str] = mapped_column(sa.String(24), default="1")
    status: Mapped[str] = mapped_column(sa.String(24), default="proposed")
    requested_by: Mapped[str] = mapped_column(sa.String(16))

    def candidate(self, plan_id: str) -> dict[str, Any] | None:
        """Return the stored candidate with `plan_id`, if any."""
        return next((c for c in self.candidates if c["plan_id"] == plan_id), None)


class ModelVersion(Base):
    """A trained model version: its skops artifact and card, kept in the database so that every
    worker on every host can load exactly the same bytes (checked by sha256)."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    card: Mapped[dict[str, Any]] = mapped_column()
    model_sha256: Mapped[str] = mapped_column(sa.String(64))
    artifact: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)


class ModelPromotion(Base):
    """An append-only log of promotions; the latest row names the model in use."""

    __tablename__ = "model_promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.ForeignKey("model_versions.version"))
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    by: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")


class Outcome(Base):
    """What happened after an accepted plan: one per decision (a second post updates it)."""

    __tablename__ = "outcomes"

    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(sa.String(200))
    retained: Mapped[bool] = mapped_column()
    observed_at: Mapped[datetime] = mapped_column(Timestamp)
    referrals: Mapped[int | None] = mapped_column()
    revenue_after_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    csat: Mapped[int | None] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(64))

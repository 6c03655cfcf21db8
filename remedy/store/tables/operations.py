"""Running the service: keys, documents, audit, idempotency, models, jobs, cache generation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, BigId, Timestamp, new_id, utcnow


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
    # A panel session's key (POST /v1/panel/sessions) stops working at this time; the
    # integration that vouched for its agent. Both null for keys made by an admin.
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    integration_id: Mapped[str | None] = mapped_column(sa.String(32))


class Integration(Base):
    """A help desk that signs its agents in to the panel: HS256 tokens with its secret.

    The secret is stored as issued, not hashed: HS256 is symmetric, so verifying a token needs
    the very bytes that signed it. It is shown once, never listed, and protected like the
    database (docs/panel.md says how to rotate it: a new integration, then revoke the old)."""

    __tablename__ = "integrations"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    team: Mapped[str] = mapped_column(sa.String(64))
    allowed_origins: Mapped[list[Any]] = mapped_column()
    secret: Mapped[str] = mapped_column(sa.String(128))
    created_by: Mapped[str] = mapped_column(sa.String(64))
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
    # The active version of a kind is the highest one already in effect (caps may be scheduled).
    effective_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


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


class IdempotencyKey(Base):
    """The first successful answer to a request sent with an Idempotency-Key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("principal", "key", name="uq_idempotency_keys_principal_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(sa.String(16))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int | None] = mapped_column()
    body: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


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


class Job(Base):
    """Long work run outside the web workers (a what-if replay): queued by a request, claimed
    by a `remedy worker`, which reports progress here and stores the result or the error.

    The queue is this table, so jobs live as long as the database and need no broker. A
    running job holds a lease (`lease_until`) its worker renews; a job whose worker died is
    claimed again once the lease has passed.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        sa.Index("ix_jobs_status_created_at", "status", "created_at"),
        sa.Index("ix_jobs_parent_id", "parent_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column()
    # Who may read it: the role its kind needs and the team scope of the key that started it.
    role: Mapped[str] = mapped_column(sa.String(16))
    team: Mapped[str | None] = mapped_column(sa.String(64))
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(sa.String(128))
    lease_until: Mapped[datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # A partition of a larger job (a what-if's range split across workers): the job it belongs
    # to, which merges the partitions' results (remedy/whatif/partitions.py).
    parent_id: Mapped[str | None] = mapped_column(sa.String(32))


class CacheGeneration(Base):
    """One row whose `value` grows with every change a worker may have cached (remedy/store/
    generation.py): API keys, catalog, rules and caps versions, model promotions."""

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class JobWorker(Base):
    """A `remedy worker` process as last seen: /readyz counts those seen lately to tell
    whether a queued job would run (remedy/services/jobs.py, `queue_health`)."""

    __tablename__ = "job_workers"

    name: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)

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


class Decision(Base):
    """A recommendation as made: inputs, versions, the cap, and every candidate with its score.

    The JSON columns are written and read only through `remedy.decisions.record.DecisionRecord`.

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
    # Budget pacing's shadow price on cost when the plans were ranked ("1": no pacing).
    cost_price: Mapped[str] = mapped_column(sa.String(24), default="1")
    accepted_plan_id: Mapped[str | None] = mapped_column(sa.String(255))
    # The layout of the JSON columns (remedy/decisions/record.py reads every version).
    record_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The most generous plan offered, shown flagged beside the best-value ones (record v3).
    generous_plan_id: Mapped[str | None] = mapped_column(sa.String(255))
    # The language of its labels, reasons, notes and talking points (None: logged before 0006).
    language: Mapped[str | None] = mapped_column(sa.String(16))


class ApprovalRequest(Base):
    """A plan (or an overage) waiting for a lead's or finance's decision, and that decision.

    One row per request: the approvers' queues are the pending rows, oldest first. `tier` is
    who decides it now; escalation moves a lead's request to finance (`escalated_at`), it never
    expires it. See remedy/services/approvals.py.
    """

    __tablename__ = "approval_requests"
    __table_args__ = (sa.Index("ix_approval_requests_queue", "state", "tier", "requested_at"),)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # plan | overage
    team: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    tier: Mapped[str] = mapped_column(sa.String(16))  # lead | finance
    requested_tier: Mapped[str] = mapped_column(sa.String(16))  # the tier before escalation
    requested_at: Mapped[datetime] = mapped_column(Timestamp)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    escalated_at: Mapped[datetime | None] = mapped_column(Timestamp)
    # pending | approved | rejected | cancelled | expired (an overage whose reservation expired)
    state: Mapped[str] = mapped_column(sa.String(16), default="pending")
    decided_at: Mapped[datetime | None] = mapped_column(Timestamp)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_role: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str | None] = mapped_column(sa.String(500))


# Ledger ids are 64-bit on PostgreSQL; SQLite autoincrements only an INTEGER primary key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class BudgetPool(Base):
    """One version of a team's pool in one currency; the highest version in effect applies."""

    __tablename__ = "budget_pools"
    __table_args__ = (
        sa.UniqueConstraint("team", "currency", "version", name="uq_budget_pools_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(sa.String(64))
    currency: Mapped[str] = mapped_column(sa.String(3))
    version: Mapped[int] = mapped_column()
    period: Mapped[str] = mapped_column(sa.String(8))  # week | month
    limit_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # The fix line's limit when finance splits the pool into a fix line and an overdelivery
    # line (limit_minor - fix_limit_minor); None: one line for both (remedy/ledger/limits.py).
    fix_limit_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    effective_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(64))


class PoolCounter(Base):
    """What one pool period holds; locked by every writer of that pool (sums of the ledger)."""

    __tablename__ = "pool_counters"

    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    period_key: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The fix line's part of the two above (the overdelivery line holds the rest).
    fix_reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fix_committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CustomerCounter(Base):
    """What one customer holds in one currency, all time; locked by writers for the customer."""

    __tablename__ = "customer_counters"

    customer_id: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class CapacityCounter(Base):
    """Personal contacts of one level held on one UTC day; locked by writers of that day."""

    __tablename__ = "capacity_counters"

    level: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)


class Reservation(Base):
    """The budget a decision's accepted plan holds: at most one per decision."""

    __tablename__ = "reservations"
    __table_args__ = (
        sa.Index("ix_reservations_expiry", "pool_team", "currency", "state", "expires_at"),
        sa.Index("ix_reservations_window", "customer_id", "currency", "created_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), unique=True)
    plan_id: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    currency: Mapped[str] = mapped_column(sa.String(3))
    pool_team: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    contact_level: Mapped[str | None] = mapped_column(sa.String(16))
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The fix's part of the two above: it spends from the pool's fix line.
    fix_reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fix_committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # An actual cost above the reservation, waiting for finance's approval.
    requested_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    # The pool and caps versions it was reserved under (named again by its releases).
    pool_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class LedgerEntry(Base):
    """One append-only movement of a reservation's money (see remedy/ledger/entries.py)."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp)
    kind: Mapped[str] = mapped_column(sa.String(8))  # reserve | adjust | commit | release
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    # The part of amount_minor on the pool's fix line (same sign; the rest is overdelivery).
    fix_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    contacts: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    pool_team: Mapped[str] = mapped_column(sa.String(64))
    period_key: Mapped[str] = mapped_column(sa.String(16))
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    decision_id: Mapped[str] = mapped_column(sa.String(32))
    reservation_id: Mapped[str] = mapped_column(sa.ForeignKey("reservations.id"), index=True)
    contact_level: Mapped[str | None] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(24))  # accept, approve, fulfil, cancel, ...
    actor: Mapped[str] = mapped_column(sa.String(64))
    # The pool and caps versions whose limits this entry was checked against.
    pool_version: Mapped[int] = mapped_column()
    caps_version: Mapped[int] = mapped_column()
    # Declared so a flush inserts a new reservation before the entries that refer to it.
    reservation: Mapped[Reservation] = relationship(lazy="raise")


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


class Outcome(Base):
    """What happened after an accepted plan: one per decision (a second post updates it)."""

    __tablename__ = "outcomes"

    decision_id: Mapped[str] = mapped_column(sa.ForeignKey("decisions.id"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(sa.String(200))
    # The plan's priced items, copied from the decision (training reads these, not the ~2 kB
    # of every item the decision priced); None for outcomes recorded before migration 0010.
    plan_items: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    # What retraining reads of the plan, computed when the outcome is recorded: its feature row
    # (float64 bytes of models/features.py, at `features_version`) and its cost in minor units.
    features: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    features_version: Mapped[int | None] = mapped_column()
    plan_cost_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    retained: Mapped[bool] = mapped_column()
    observed_at: Mapped[datetime] = mapped_column(Timestamp)
    referrals: Mapped[int | None] = mapped_column()
    revenue_after_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    csat: Mapped[int | None] = mapped_column()
    # When the agent first answered and when the fix was done: measured against the promises.
    responded_at: Mapped[datetime | None] = mapped_column(Timestamp)
    fixed_at: Mapped[datetime | None] = mapped_column(Timestamp)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(64))


class Job(Base):
    """Long work run outside the web workers (a what-if replay): queued by a request, claimed
    by a `remedy worker`, which reports progress here and stores the result or the error.

    The queue is this table, so jobs live as long as the database and need no broker. A
    running job holds a lease (`lease_until`) its worker renews; a job whose worker died is
    claimed again once the lease has passed.
    """

    __tablename__ = "jobs"
    __table_args__ = (sa.Index("ix_jobs_status_created_at", "status", "created_at"),)

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


class CacheGeneration(Base):
    """One row whose `value` grows with every change a worker may have cached (remedy/store/
    generation.py): API keys, catalog, rules and caps versions, model promotions."""

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)

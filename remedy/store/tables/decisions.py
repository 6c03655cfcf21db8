"""Decisions as stored, their approval requests and what happened after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, Timestamp, new_id, utcnow


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
    # The incident's canonical category and touchpoint, copied from `incident` when the row is
    # written (remedy/services/rollups.py) so reports group by them without reading the JSON.
    category: Mapped[str | None] = mapped_column(sa.String(64))
    touchpoint: Mapped[str | None] = mapped_column(sa.String(64))
    # The champion/challenger experiment this decision was in, and its arm (champion or
    # challenger; remedy/decisions/experiments.py); null outside an experiment.
    experiment_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    arm: Mapped[str | None] = mapped_column(sa.String(16))


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
    # active_history (here and on the two times): a change knows the value it replaces, for the
    # reports' rollup (remedy/services/rollups.py).
    retained: Mapped[bool] = mapped_column(active_history=True)
    observed_at: Mapped[datetime] = mapped_column(Timestamp)
    referrals: Mapped[int | None] = mapped_column()
    revenue_after_minor: Mapped[int | None] = mapped_column(sa.BigInteger)
    csat: Mapped[int | None] = mapped_column()
    # When the agent first answered and when the fix was done: measured against the promises.
    responded_at: Mapped[datetime | None] = mapped_column(Timestamp, active_history=True)
    fixed_at: Mapped[datetime | None] = mapped_column(Timestamp, active_history=True)
    # Seconds from the complaint (`reported_at`) to responded_at and fixed_at, and the promises
    # they are held to, copied when written (remedy/services/rollups.py): the promises report
    # reads these numbers, never the decision's JSON. None: no time or no promise to keep.
    respond_seconds: Mapped[float | None] = mapped_column(sa.Float)
    respond_within_seconds: Mapped[float | None] = mapped_column(sa.Float)
    fix_seconds: Mapped[float | None] = mapped_column(sa.Float)
    fix_within_seconds: Mapped[float | None] = mapped_column(sa.Float)
    recorded_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(64))

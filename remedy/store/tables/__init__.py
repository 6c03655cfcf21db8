"""Typed ORM models, by responsibility. They hold data only: services flush, the unit of work
commits.

base.py (the declarative base, ids, the UTC timestamp column), decisions.py (decisions,
approval requests, outcomes), ledger.py (pools, counters, reservations, ledger entries),
operations.py (keys, documents, audit, idempotency, models, jobs, the cache generation),
experiments.py (champion/challenger experiments and their checks),
mass.py (mass incidents, their customers and chunks), webhooks.py (subscriptions and their
outbox), reports.py (the reports' rollup: one row per ticket).
Import tables from here: `from remedy.store.tables import Decision`.
"""

from __future__ import annotations

from remedy.store.tables.base import Base, BigId, Timestamp, UtcDateTime, new_id, utcnow
from remedy.store.tables.decisions import ApprovalRequest, Decision, Outcome
from remedy.store.tables.experiments import ExperimentCheck, ModelExperiment
from remedy.store.tables.ledger import (
    BudgetPool,
    CapacityCounter,
    CustomerCounter,
    LedgerEntry,
    PoolCounter,
    Reservation,
)
from remedy.store.tables.mass import (
    MassIncident,
    MassIncidentChunk,
    MassIncidentCustomer,
)
from remedy.store.tables.operations import (
    ApiKey,
    AuditEntry,
    CacheGeneration,
    ConfigVersion,
    IdempotencyKey,
    Integration,
    Job,
    JobWorker,
    ModelPromotion,
    ModelVersion,
)
from remedy.store.tables.reports import ReportTicket
from remedy.store.tables.webhooks import Webhook, WebhookDelivery

__all__ = [
    "ApiKey",
    "ApprovalRequest",
    "AuditEntry",
    "Base",
    "BigId",
    "BudgetPool",
    "CacheGeneration",
    "CapacityCounter",
    "ConfigVersion",
    "CustomerCounter",
    "Decision",
    "ExperimentCheck",
    "IdempotencyKey",
    "Integration",
    "Job",
    "JobWorker",
    "LedgerEntry",
    "MassIncident",
    "MassIncidentChunk",
    "MassIncidentCustomer",
    "ModelExperiment",
    "ModelPromotion",
    "ModelVersion",
    "Outcome",
    "PoolCounter",
    "ReportTicket",
    "Reservation",
    "Timestamp",
    "UtcDateTime",
    "Webhook",
    "WebhookDelivery",
    "new_id",
    "utcnow",
]

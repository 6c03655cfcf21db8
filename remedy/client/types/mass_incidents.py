"""One failure for many customers: a mass incident, its totals per currency and its chunks."""

from __future__ import annotations

from typing import Any, TypedDict

from remedy.client.types.jobs import Job, JobProgress


class MassPool(TypedDict):
    """The pool a mass incident's currency spends from, as it stands now."""

    team: str
    period: str
    limit: str
    remaining: str
    split: bool
    fix_remaining: str | None
    overdelivery_remaining: str | None
    fits: bool  # what is still to reserve fits what the pool has left


class MassTotal(TypedDict):
    """One currency of a mass incident: its plans' total against the pool."""

    currency: str
    customers: int
    refused: int
    planned: str
    fix: str
    overdelivery: str
    reserved: str
    to_reserve: str
    pool: MassPool | None


class MassChunks(TypedDict):
    """A mass incident's chunks, each reserved in one transaction."""

    total: int
    pending: int
    reserved: int
    refused: int
    size: int


class MassIncident(TypedDict):
    """One failure for many customers: where it stands and its total against the pool."""

    id: str
    team: str
    status: str  # deciding, ready, reserving, reserved, partly_reserved
    incident: dict[str, Any]
    customers: int
    tier: str | None  # who approves it: lead or finance
    counts: dict[str, int]
    totals: list[MassTotal]
    chunks: MassChunks
    refusal: str | None
    needs_approval_by: dict[str, int]
    progress: JobProgress
    created_by: str
    created_at: str
    decided_at: str | None
    approved_by: str | None
    approved_role: str | None
    approved_at: str | None
    reason: str | None
    finished_at: str | None
    decide_job_id: str | None
    reserve_job_id: str | None
    job: Job | None  # the job just queued (declare, approve)

"""Long work run by `remedy worker` (what-ifs, mass incidents): a job, its progress, its error."""

from __future__ import annotations

from typing import Any, TypedDict


class JobProgress(TypedDict):
    """How far a job is: `done` of `total` steps (None until a worker starts it)."""

    done: int
    total: int | None


class JobError(TypedDict):
    """Why a job failed: a message and the fields it names, like the error envelope."""

    message: str
    errors: dict[str, list[str]]


class Job(TypedDict):
    """Long work run by `remedy worker` (a what-if): poll it until succeeded or failed."""

    id: str
    kind: str
    status: str  # queued, running, succeeded, failed
    progress: JobProgress
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: JobError | None

"""A job's children: the partitions of a large job (a what-if's range split across workers).

Children are ordinary rows of the job table, claimed by any `remedy worker` like every job
(remedy/services/jobs.py), each naming its parent (`parent_id`). They belong to the job the key
started: no quota counts them, and cancelling the parent cancels them. The parent's own worker
claims them too (`JobQueue.claim(parent=...)`), so a single worker finishes a partitioned job
alone and more workers only make it faster.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.services.jobs import QUEUED
from remedy.store.tables import Job


class JobChildren:
    """Queues and reads the children of jobs in `session` (the caller commits)."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def enqueue_children(self, parent: Job, kind: str, params: list[dict[str, Any]]) -> list[Job]:
        """Queue one child job of `kind` per entry of `params`, belonging to `parent` (its
        role, team and requester; not counted in any quota: they are the parent's work)."""
        children = [
            Job(
                kind=kind,
                status=QUEUED,
                params=dict(entry),
                role=parent.role,
                team=parent.team,
                requested_by=parent.requested_by,
                progress_done=0,
                attempts=0,
                parent_id=parent.id,
            )
            for entry in params
        ]
        self.session.add_all(children)
        self.session.flush()
        return children

    def children(self, parent_id: str) -> list[Job]:
        """The child jobs of `parent_id`, in the order they were queued (their params say
        their place when it matters)."""
        return list(
            self.session.scalars(
                sa.select(Job)
                .where(Job.parent_id == parent_id)
                .order_by(Job.created_at, Job.id)
                .execution_options(populate_existing=True)
            )
        )

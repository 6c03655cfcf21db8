"""The job queue: long work queued by a request and run by `remedy worker`, in one table.

Why a table and not a broker (Celery, RQ, Dramatiq): the service already has one database that
every web worker and every host shares, and a job needs exactly what a row gives: it survives a
restart of any process, its progress and result are read by the same API that started it, and
claims are safe across workers (PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`; SQLite: one
guarded `UPDATE`, which its single writer serialises). A broker would add a server to run and
watch, and a second place where a job's state lives, for a handful of jobs an hour.

A claimed job holds a lease (`lease_until`) its worker renews while it runs; a worker that dies
stops renewing it, and the job is claimed again once it has passed, up to `MAX_ATTEMPTS` times
(then it fails, saying so).

Fairness: each API key and each team may have only so many jobs queued or running
(`JobQuota`); one more is 429 with Retry-After, so one key cannot fill the queue with month-long
sweeps ahead of everyone else. A queued or running job can be cancelled: its worker loses it at
its next heartbeat and stops at its next progress report.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from remedy.errors import Conflict, NotFound, TooManyRequests
from remedy.services.keys import Principal
from remedy.store.session import begin_write
from remedy.store.tables import Job, JobWorker, utcnow

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
CANCELLED = "cancelled"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)
ACTIVE = (QUEUED, RUNNING)
MAX_ATTEMPTS = 3  # a job whose worker died this many times fails instead of being claimed again
DEFAULT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class JobQuota:
    """How many jobs one API key and one team may have queued or running at once
    (REMEDY_JOBS_PER_KEY, REMEDY_JOBS_PER_TEAM), and the Retry-After of a refusal."""

    per_key: int = 5
    per_team: int = 20
    retry_after: int = 30


# A worker reports itself every SEEN_EVERY seconds; one not seen for WORKER_GONE_SECONDS (and
# holding no live lease) is presumed gone.
SEEN_EVERY = 10.0
WORKER_GONE_SECONDS = 60


@dataclass(frozen=True)
class QueueHealth:
    """What /readyz says of the queue."""

    queued: int
    oldest_queued_seconds: int | None
    stale_leases: int  # running jobs whose worker stopped renewing: waiting to be reclaimed
    workers_seen: int  # workers seen in the last WORKER_GONE_SECONDS or holding a live lease

    @property
    def runnable(self) -> bool:
        """Whether waiting jobs (queued or reclaimable) have a live worker to run them."""
        return self.workers_seen > 0 or (self.queued == 0 and self.stale_leases == 0)


def worker_name() -> str:
    """A name for this worker process, unique across hosts and restarts."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobQueue:
    """Queues, claims, tracks and finishes jobs in `session` (the caller commits).

    Every write a worker makes is guarded by its name and the job's status, so a worker whose
    lease was taken over can no longer change the job.
    """

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    # -- the API's side ---------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        params: Mapping[str, Any],
        role: str,
        by: Principal,
        quota: JobQuota | None = None,
    ) -> Job:
        """Queue a job of `kind`; readable by keys with `role` and `by`'s team scope.

        With a `quota`, refuse (TooManyRequests) a key or team that has as many jobs queued or
        running as it allows.
        """
        if quota is not None:
            self.check_quota(by, quota)
        job = Job(
            kind=kind,
            status=QUEUED,
            params=dict(params),
            role=role,
            team=by.team,
            requested_by=by.prefix,
            progress_done=0,
            attempts=0,
        )
        self.session.add(job)
        self.session.flush()
        return job

    def check_quota(self, by: Principal, quota: JobQuota, lock: bool = True) -> None:
        """Refuse a key (and a team-scoped key's team) at its limit of active jobs.

        With `lock`, on SQLite the count is taken under the write lock, so two requests cannot
        both pass the last place; on PostgreSQL two that race may pass it by one each (a
        fairness limit, not money). Without it (a cheap refusal before a request's expensive
        checks) nothing is locked.
        """
        if lock:
            begin_write(self.session)
        active = (
            sa.select(sa.func.count())
            .select_from(Job)
            .where(Job.status.in_(ACTIVE), Job.parent_id.is_(None))
        )
        mine = self.session.scalar(active.where(Job.requested_by == by.prefix)) or 0
        if mine >= quota.per_key:
            message = (
                f"this key has {mine} jobs queued or running, its most ({quota.per_key}); "
                "wait for one to finish or cancel one"
            )
            raise TooManyRequests(message, {"_request": [message]}, quota.retry_after)
        if by.team is not None:
            theirs = self.session.scalar(active.where(Job.team == by.team)) or 0
            if theirs >= quota.per_team:
                message = (
                    f"team {by.team!r} has {theirs} jobs queued or running, its most "
                    f"({quota.per_team}); wait for one to finish or cancel one"
                )
                raise TooManyRequests(message, {"_request": [message]}, quota.retry_after)

    def cancel(self, job_id: str, by: Principal) -> Job:
        """Cancel a queued or running job `by` may see (409 once it has ended)."""
        job = self.get(job_id, by)
        cancelled = self.session.execute(
            sa.update(Job)
            .where(sa.or_(Job.id == job.id, Job.parent_id == job.id), Job.status.in_(ACTIVE))
            .values(
                status=CANCELLED,
                finished_at=utcnow(),
                lease_until=None,
                error={"message": f"cancelled by key {by.prefix}", "errors": {}},
            )
            .execution_options(synchronize_session=False)
        )
        self.session.refresh(job)
        if cancelled.rowcount < 1 or job.status != CANCELLED:
            message = f"job {job.id} is {job.status}: only a queued or running job can be cancelled"
            raise Conflict(message, {"status": [message]})
        return job

    def get(self, job_id: str, reader: Principal) -> Job:
        """Return a job `reader` may see: its kind's role (or one of its roles, comma-separated:
        `lead,finance`) and, for a scoped key, its team.

        Another team's job, or one of a role the key lacks, is 404 as if it did not exist.
        """
        job = self.session.get(Job, job_id)
        roles = job.role.split(",") if job is not None else []
        if job is None or not reader.has_role(*roles) or not reader.sees(job.team):
            raise NotFound(f"no job {job_id!r}")
        return job

    def health(self) -> QueueHealth:
        """How the queue stands: waiting jobs, the oldest one's age, stale leases, workers."""
        now = utcnow()
        queued, oldest = self.session.execute(
            sa.select(sa.func.count(), sa.func.min(Job.created_at)).where(Job.status == QUEUED)
        ).one()
        stale = self.session.scalar(
            sa.select(sa.func.count()).where(Job.status == RUNNING, Job.lease_until < now)
        )
        recent = now - timedelta(seconds=WORKER_GONE_SECONDS)
        seen = set(
            self.session.scalars(sa.select(JobWorker.name).where(JobWorker.seen_at >= recent))
        )
        seen.update(
            self.session.scalars(
                sa.select(Job.worker).where(Job.status == RUNNING, Job.lease_until >= now)
            )
        )
        age = None
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            age = max(0, int((now - oldest).total_seconds()))
        return QueueHealth(queued, age, stale or 0, len(seen - {None}))

    # -- the worker's side ------------------------------------------------------------------

    def seen(self, worker: str) -> None:
        """Record that `worker` is alive now (its row, made on first sight)."""
        now = utcnow()
        updated = self.session.execute(
            sa.update(JobWorker)
            .where(JobWorker.name == worker)
            .values(seen_at=now)
            .execution_options(synchronize_session=False)
        )
        if updated.rowcount == 0:
            self.session.add(JobWorker(name=worker, started_at=now, seen_at=now))

    def gone(self, worker: str) -> None:
        """Forget `worker` (it stopped cleanly)."""
        self.session.execute(sa.delete(JobWorker).where(JobWorker.name == worker))

    def claim(
        self, worker: str, lease: timedelta = DEFAULT_LEASE, parent: str | None = None
    ) -> Job | None:
        """Claim the oldest queued job, or one whose worker's lease has passed; None if none.

        Fails jobs whose workers died `MAX_ATTEMPTS` times first, so they are not run again.
        With `parent`, only that job's children (a parent working through its own partitions).
        """
        now = utcnow()
        waiting = sa.or_(
            Job.status == QUEUED, sa.and_(Job.status == RUNNING, Job.lease_until < now)
        )
        if parent is not None:
            waiting = sa.and_(waiting, Job.parent_id == parent)
        # An idle worker looks every second: with a plain read, so that it never takes SQLite's
        # write lock (which web requests need) unless there is something to claim.
        if self.session.scalar(sa.select(Job.id).where(waiting).limit(1)) is None:
            return None
        begin_write(self.session)  # SQLite: take the write lock before choosing what to claim
        self._fail_abandoned(now)
        claimable = sa.or_(
            Job.status == QUEUED,
            sa.and_(Job.status == RUNNING, Job.lease_until < now, Job.attempts < MAX_ATTEMPTS),
        )
        if parent is not None:
            claimable = sa.and_(claimable, Job.parent_id == parent)
        order = (_team_running(now), Job.created_at, Job.id)
        if self.session.get_bind().dialect.name == "postgresql":
            job_id = self.session.scalar(
                sa.select(Job.id)
                .where(claimable)
                .order_by(*order)
                .limit(1)
                .with_for_update(of=Job, skip_locked=True)
            )
            candidates = [] if job_id is None else [job_id]
        else:
            candidates = list(
                self.session.scalars(sa.select(Job.id).where(claimable).order_by(*order).limit(5))
            )
        for job_id in candidates:
            # Guarded: the row must still be claimable, so of two workers only one updates it.
            claimed = self.session.execute(
                sa.update(Job)
                .where(Job.id == job_id, claimable)
                .values(
                    status=RUNNING,
                    worker=worker,
                    lease_until=now + lease,
                    attempts=Job.attempts + 1,
                    started_at=now,
                    error=None,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:
                job = self.session.get(Job, job_id, populate_existing=True)
                return job
        return None

    def heartbeat(
        self,
        job_id: str,
        worker: str,
        done: int,
        total: int | None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> bool:
        """Record progress and renew the lease; False when this worker no longer holds the job."""
        return self._update(
            job_id,
            worker,
            progress_done=done,
            progress_total=total,
            lease_until=utcnow() + lease,
        )

    def succeed(
        self, job_id: str, worker: str, result: dict[str, Any], done: int, total: int | None
    ) -> bool:
        """Store the result; False when this worker no longer holds the job."""
        return self._update(
            job_id,
            worker,
            status=SUCCEEDED,
            result=result,
            progress_done=done,
            progress_total=total,
            finished_at=utcnow(),
            lease_until=None,
        )

    def fail(
        self, job_id: str, worker: str, message: str, errors: dict[str, list[str]] | None = None
    ) -> bool:
        """Store the error (what a reader of the job is shown); False if no longer held."""
        return self._update(
            job_id,
            worker,
            status=FAILED,
            error={"message": message, "errors": errors or {}},
            finished_at=utcnow(),
            lease_until=None,
        )

    def release(self, job_id: str, worker: str) -> bool:
        """Put a job back in the queue (its worker is shutting down): not counted as a try."""
        return self._update(
            job_id,
            worker,
            status=QUEUED,
            worker=None,
            lease_until=None,
            started_at=None,
            attempts=Job.attempts - 1,
        )

    def _update(self, job_id: str, holder: str, **values: Any) -> bool:
        changed = self.session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.worker == holder, Job.status == RUNNING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return changed.rowcount == 1

    def _fail_abandoned(self, now: datetime) -> None:
        """Fail running jobs past their lease whose workers died `MAX_ATTEMPTS` times."""
        message = (
            f"the worker running this job stopped {MAX_ATTEMPTS} times without finishing it; "
            "start it again, with a narrower range if it is large"
        )
        self.session.execute(
            sa.update(Job)
            .where(Job.status == RUNNING, Job.lease_until < now, Job.attempts >= MAX_ATTEMPTS)
            .values(
                status=FAILED,
                error={"message": message, "errors": {}},
                finished_at=now,
                lease_until=None,
            )
            .execution_options(synchronize_session=False)
        )


def _team_running(now: datetime) -> sa.ScalarSelect[int]:
    """How many jobs of the candidate's team run now (live leases): claiming takes the team
    with the fewest first, then the oldest job, so one team's queue of a hundred what-ifs never
    keeps another team's one job waiting behind all of them (unscoped keys are one team)."""
    running = aliased(Job)
    return (
        sa.select(sa.func.count(running.id))
        .where(
            running.team.is_not_distinct_from(Job.team),
            running.status == RUNNING,
            running.lease_until >= now,
        )
        .scalar_subquery()
    )

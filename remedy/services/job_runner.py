"""Run queued jobs: claim one, call its kind's function, report progress, store the outcome.

The runner knows no kind by name: it runs what a `JobRegistry` holds (remedy/services/
job_kinds.py), where each domain registers its own long work. A kind's function gets a
`JobContext` (a read session, the requester's team scope, a progress hook, the app's settings
and services) and the job's parameters, and returns a JSON-ready result or raises a
`DomainError`, whose message and fields become the job's error. Between jobs the runner also
runs the registry's periodic tasks when they are due (each in a transaction of its own).

While a job runs, a heartbeat thread writes its progress and renews its lease every
`heartbeat` seconds in short transactions of its own. Stopping (SIGTERM, or the parent process
gone) interrupts the job at its next progress report and puts it back in the queue.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from remedy.errors import DomainError
from remedy.services.app_services import Services
from remedy.services.job_kinds import Advance, JobContext, JobRegistry, TaskContext
from remedy.services.jobs import DEFAULT_LEASE, SEEN_EVERY, JobQueue, worker_name
from remedy.store.session import Database

log = logging.getLogger(__name__)

__all__ = ["JobContext", "JobInterrupted", "JobRunner"]


class JobInterrupted(Exception):
    """The worker is stopping, or lost the job's lease: leave the job to be run again."""


@dataclass
class _Progress:
    """What the job has done, shared between the job's thread and the heartbeat."""

    done: int = 0
    total: int | None = None
    lost: bool = False  # another worker claimed the job (this one's lease passed)
    lock: threading.Lock = field(default_factory=threading.Lock)


class JobRunner:
    """Claims and runs jobs of `registry`'s kinds from `database`, and its periodic tasks,
    until stopped."""

    def __init__(
        self,
        database: Database,
        registry: JobRegistry,
        config: Mapping[str, Any],
        services: Services | None,
        processes: int = 1,
        lease: timedelta = DEFAULT_LEASE,
        heartbeat: float = 1.0,
        poll: float = 1.0,
    ) -> None:
        """Run jobs of `registry`'s kinds; renew leases of `lease` every `heartbeat` s; look
        for work every `poll` s when the queue is empty."""
        self.database = database
        self.kinds = registry.kinds
        self.tasks = registry.tasks
        self.config = config
        self.services = services
        self.processes = processes
        self.lease = lease
        self.heartbeat = heartbeat
        self.poll = poll
        self.name = worker_name()
        self.stopping = threading.Event()
        self.watch_parent: int | None = None
        self._task_due: dict[str, float] = {}  # task name -> monotonic time it is next due

    def stop(self) -> None:
        """Stop after (or, at its next progress report, during) the current job."""
        self.stopping.set()

    def run(self, once: bool = False, watch_parent: int | None = None) -> int:
        """Run jobs until stopped (`once`: until the queue is empty); return how many ran.

        `watch_parent`: stop when the process with this id is no longer our parent (it exited).
        """
        ran = 0
        self.watch_parent = watch_parent
        log.info("worker %s: runs jobs of kinds %s", self.name, ", ".join(sorted(self.kinds)))
        last_seen = -SEEN_EVERY
        try:
            while not self._should_stop():
                if time.monotonic() - last_seen >= SEEN_EVERY:
                    last_seen = time.monotonic()
                    self._report(JobQueue.seen)
                self.run_due_tasks()
                if self.run_one():
                    ran += 1
                    continue
                if once:
                    break
                self.stopping.wait(self.poll)
        finally:
            self._report(JobQueue.gone)
        log.info("worker %s: stopped after %d job(s)", self.name, ran)
        return ran

    def _report(self, what: Callable[[JobQueue, str], None]) -> None:
        """Tell the queue this worker is alive (or gone), for /readyz; a database that does
        not answer is no reason to stop."""
        try:
            with self.database.unit_of_work() as session:
                what(JobQueue(session), self.name)
        except Exception:  # noqa: BLE001 - the database may be restarting: report next time
            log.warning("worker %s: could not report itself", self.name)

    def _should_stop(self) -> bool:
        """Tell whether to stop: asked to, or the parent we watch has exited."""
        if self.watch_parent is not None and os.getppid() != self.watch_parent:
            log.info("worker %s: parent %s is gone, stopping", self.name, self.watch_parent)
            self.stop()
        return self.stopping.is_set()

    def run_due_tasks(self) -> int:
        """Run each periodic task that is due (all of them the first time); return how many
        ran. A failing task is logged and tried again when next due: upkeep never stops the
        worker."""
        ran = 0
        for task in self.tasks:
            now = time.monotonic()
            if now < self._task_due.get(task.name, now):
                continue
            self._task_due[task.name] = now + task.every.total_seconds()
            try:
                with self.database.unit_of_work() as session:
                    said = task.function(TaskContext(session, self.config, self.services))
            except Exception:  # noqa: BLE001 - upkeep fails alone; the worker goes on
                log.exception("worker %s: periodic task %s failed", self.name, task.name)
                continue
            ran += 1
            if said:  # a task with nothing to say (nothing was due) leaves the log alone
                log.info("worker %s: %s: %s", self.name, task.name, said)
        return ran

    def run_one(self, parent: str | None = None) -> bool:
        """Claim one job (with `parent`: one of that job's children) and run it to its end;
        False when there was nothing to claim."""
        with self.database.unit_of_work() as session:
            job = JobQueue(session).claim(self.name, self.lease, parent)
            if job is None:
                return False
            job_id, kind, params, team = job.id, job.kind, job.params, job.team
        log.info("worker %s: running job %s (%s)", self.name, job_id, kind)
        progress = _Progress()
        beating = threading.Event()
        beat = threading.Thread(
            target=self._beat, args=(job_id, progress, beating), name="job-heartbeat", daemon=True
        )
        beat.start()
        try:
            outcome = self._call(kind, params, team, progress, job_id)
        finally:
            beating.set()
            beat.join()
        self._finish(job_id, outcome, progress)
        return True

    def _call(
        self,
        kind: str,
        params: dict[str, Any],
        team: str | None,
        progress: _Progress,
        job_id: str | None = None,
    ) -> tuple[str, Any]:
        """Run the kind's function; return ('succeeded', result), ('failed', error) or
        ('interrupted', None)."""
        function = self.kinds.get(kind)
        if function is None:
            return "failed", DomainError(f"no worker knows jobs of kind {kind!r}")
        session = self.database.sessions()
        context = JobContext(
            session,
            team,
            self._progress_hook(progress),
            self.config,
            self.services,
            self.processes,
            job_id,
            lambda parent: self.run_one(parent),
        )
        try:
            return "succeeded", function(context, params)
        except JobInterrupted:
            return "interrupted", None
        except DomainError as error:
            return "failed", error
        except Exception as error:  # noqa: BLE001 - any failure is the job's error, not the worker's
            log.exception("job of kind %s failed", kind)
            return "failed", DomainError(f"the job failed: {type(error).__name__}: {error}")
        finally:
            session.rollback()
            session.close()

    def _progress_hook(self, progress: _Progress) -> Callable[[int], Advance]:
        def start(total: int) -> Advance:
            with progress.lock:
                progress.total = total

            def advance(steps: int) -> None:
                if self.stopping.is_set() or progress.lost:
                    raise JobInterrupted
                with progress.lock:
                    progress.done += steps

            return advance

        return start

    def _beat(self, job_id: str, progress: _Progress, beating: threading.Event) -> None:
        """Write progress and renew the lease until the job ends; stop it if the lease is lost."""
        while not beating.wait(self.heartbeat):
            if self._should_stop():
                return  # the job's next progress report interrupts it
            with progress.lock:
                done, total = progress.done, progress.total
            try:
                with self.database.unit_of_work() as session:
                    held = JobQueue(session).heartbeat(job_id, self.name, done, total, self.lease)
            except Exception:  # noqa: BLE001 - the database may be restarting: try next beat
                log.warning("worker %s: heartbeat of job %s failed", self.name, job_id)
                continue
            if not held:
                log.warning("worker %s: lost job %s to another worker", self.name, job_id)
                progress.lost = True
                return

    def _finish(self, job_id: str, outcome: tuple[str, Any], progress: _Progress) -> None:
        status, value = outcome
        with self.database.unit_of_work() as session:
            queue = JobQueue(session)
            if status == "succeeded":
                queue.succeed(job_id, self.name, value, progress.done, progress.total)
            elif status == "failed":
                queue.fail(job_id, self.name, value.message, value.errors)
            else:
                queue.release(job_id, self.name)
        log.info("worker %s: job %s %s", self.name, job_id, status)

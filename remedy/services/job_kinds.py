"""The registry of long work: job kinds and periodic tasks, each registered by its domain.

A domain that has long work says so where the work lives: it exposes `register_jobs(registry)`
(the what-if's replays: remedy/whatif/job.py; escalating overdue approvals:
remedy/services/approvals.py), and the composition root (`create_app`) calls each once. The
worker (remedy/services/job_runner.py, `remedy worker`) only runs what the registry holds: it
knows no kind by name.

A job kind is queued by a request (`JobQueue.enqueue`) and run once by a worker; a periodic task
is run by every worker every `every` (in a transaction of its own, which it may write in), for
upkeep nobody queues, such as recording overdue escalations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:  # the app's services hold the registry: a type only, no import cycle
    from remedy.services.app_services import Services

Advance = Callable[[int], None]


@dataclass
class JobContext:
    """What a job's function may use."""

    # For reads; the function leaves it as it found it (it is rolled back). A job that writes
    # (a mass incident's) commits short transactions of its own in it, each guarded so that a
    # rerun after a crash repeats nothing.
    session: Session
    team: str | None  # the scope of the key that started the job (None: every team)
    progress: Callable[[int], Advance]  # progress(total) -> advance(steps)
    config: Mapping[str, Any]  # the app's settings
    services: Services | None  # the app's providers (the scorer, the engines)
    processes: int = 1  # how many processes the function may fork to decide in
    job_id: str | None = None  # the job being run (a parent queues its children under it)
    # Claim and run one child of the given job in this worker (False: none left to claim), so a
    # job split into partitions is finished by its own worker when no other is free.
    run_child: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class TaskContext:
    """What a periodic task may use: a session it may write in (committed after it returns)."""

    session: Session
    config: Mapping[str, Any]
    services: Services | None


JobFunction = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
TaskFunction = Callable[[TaskContext], str]  # returns a line for the worker's log ("": none)
JobKinds = Mapping[str, JobFunction]


@dataclass(frozen=True)
class PeriodicTask:
    """Upkeep every worker runs every `every`."""

    name: str
    every: timedelta
    function: TaskFunction


class JobRegistry:
    """Job kinds (name -> function) and periodic tasks, registered by their domains."""

    def __init__(self, kinds: JobKinds | None = None) -> None:
        """Start with `kinds` (tests and tools register a few directly)."""
        self._kinds: dict[str, JobFunction] = dict(kinds or {})
        self._tasks: dict[str, PeriodicTask] = {}

    def kind(self, name: str, function: JobFunction) -> None:
        """Register a job kind; a name registered twice is a wiring mistake (ValueError)."""
        if name in self._kinds:
            raise ValueError(f"job kind {name!r} is registered twice")
        self._kinds[name] = function

    def periodic(self, name: str, every: timedelta, function: TaskFunction) -> None:
        """Register upkeep run by every worker every `every`."""
        if name in self._tasks:
            raise ValueError(f"periodic task {name!r} is registered twice")
        if every <= timedelta(0):
            raise ValueError(f"periodic task {name!r} needs a positive interval")
        self._tasks[name] = PeriodicTask(name, every, function)

    @property
    def kinds(self) -> JobKinds:
        """The job kinds by name."""
        return dict(self._kinds)

    @property
    def tasks(self) -> tuple[PeriodicTask, ...]:
        """The periodic tasks, in the order registered."""
        return tuple(self._tasks.values())

"""The processes of `remedy serve`, kept running: gunicorn, its front and the job worker.

`remedy serve` stays the parent of everything it starts and watches it: the job worker is
restarted whenever it exits (a killed worker's job is reclaimed when its lease passes, by it or
any other worker), gunicorn and the front are the service itself, so either one exiting stops
the rest and `remedy serve` exits with its status (systemd or the container runtime restarts
the whole). SIGTERM and SIGINT stop everything gracefully: gunicorn finishes the requests in
flight, nginx closes its connections as they finish, the worker puts its job back.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger(__name__)

# How long a restarted process waits before it starts again: doubling from the first, reset
# once it has run for STABLE_SECONDS (a worker that cannot start does not spin).
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
STABLE_SECONDS = 60.0
TICK = 0.2  # seconds between looks at the children


@dataclass
class Child:
    """One supervised process: its command, whether it is restarted, its stop signal."""

    name: str
    command: Callable[[], list[str]]
    restart: bool = False
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restarts: int = 0
    due_at: float | None = None

    def start(self) -> None:
        """Start (again) now."""
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            self.command(), preexec_fn=_die_with_parent if sys.platform == "linux" else None
        )
        self.started_at = time.monotonic()
        self.due_at = None
        log.info("serve: started %s (pid %d)", self.name, self.process.pid)


@dataclass
class Supervisor:
    """Starts the children, restarts those marked so, and stops them all together."""

    children: list[Child]
    grace_seconds: float = 35.0
    stopping: bool = field(default=False, init=False)

    def run(self) -> int:
        """Run until a non-restarted child exits or a stop signal comes; return the status."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for child in self.children:
                child.start()
            status = self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("serve: signal %d, stopping", signum)
        self.stopping = True

    def _watch(self) -> int:
        while not self.stopping:
            now = time.monotonic()
            for child in self.children:
                if child.due_at is not None:
                    if now >= child.due_at:
                        child.start()
                    continue
                code = child.process.poll() if child.process is not None else None
                if code is None:
                    continue
                if not child.restart:
                    log.warning("serve: %s exited with %s; stopping", child.name, code)
                    return code or 0
                if now - child.started_at >= STABLE_SECONDS:
                    child.backoff = FIRST_BACKOFF
                child.restarts += 1
                child.due_at = now + child.backoff
                log.warning(
                    "serve: %s exited with %s; restarting in %.1f s",
                    child.name,
                    code,
                    child.backoff,
                )
                child.backoff = min(MAX_BACKOFF, child.backoff * 2)
            time.sleep(TICK)  # a supervisor's poll, not a test's synchronisation
        return self._stop_all()

    def _stop_all(self) -> int:
        """Signal every running child, wait for them (up to the grace), return gunicorn's
        (the first child's) exit status."""
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            child.process.send_signal(child.stop_signal)  # type: ignore[union-attr]
        deadline = time.monotonic() + self.grace_seconds
        for child in running:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                child.process.kill()  # type: ignore[union-attr]
                child.process.wait()  # type: ignore[union-attr]
        first = self.children[0].process
        return (first.returncode or 0) if first is not None else 0


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before it runs: ask Linux for SIGTERM when `remedy serve` dies, however it
    dies (even SIGKILL), so gunicorn and nginx never outlive their supervisor and keep the port."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def own_pid() -> int:
    """This process's id (what the job worker watches to know its parent is gone)."""
    return os.getpid()

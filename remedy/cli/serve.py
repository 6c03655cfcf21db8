"""`remedy serve`: the API under gunicorn, or Flask's development server.

The worker model is gunicorn's `gthread`: each worker process runs a few request threads and
keeps idle connections open in a poller, so an agent's tool reuses its connection instead of
opening one per request, and a burst waits for a thread in the worker rather than in the
kernel's listen backlog (where sync workers, which close every connection, left it to SYN
retransmits of a second or more). Threads share the worker's caches (keys, configuration,
model) and its connection pool, sized to the threads. benchmarks/README.md has the figures
behind the defaults below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import click

from remedy.cli.common import current_or_new_app

# Idle keep-alive connections stay open this long: longer than the idle timeout of common load
# balancers (60 s), so the balancer, not gunicorn, closes an idle connection and never sends a
# request on one gunicorn is closing.
KEEP_ALIVE_SECONDS = 75
# gunicorn's own advice for its heartbeat files; only gunicorn writes there (its temp files).
SHARED_MEMORY = "/dev/shm"  # noqa: S108


@dataclass(frozen=True)
class ServingDefaults:
    """Worker processes, threads per worker and database connections per worker."""

    workers: int
    threads: int

    @property
    def pool_size(self) -> int:
        """One connection per request thread: none waits for the pool."""
        return self.threads


def serving_defaults(database_url: str, cpus: int | None = None) -> ServingDefaults:
    """The defaults for a database: SQLite has one writer, PostgreSQL many.

    SQLite: two processes (one per core on a small host; more only queue on the file's write
    lock) with 4 threads each. PostgreSQL: one process per core (at least 2) with 8 threads each;
    connections = workers x threads, well inside PostgreSQL's default 100.
    """
    cpus = cpus or os.cpu_count() or 2
    if database_url.startswith("sqlite"):
        return ServingDefaults(workers=2, threads=4)
    return ServingDefaults(workers=max(2, cpus), threads=8)


def gunicorn_options(workers: int, threads: int) -> list[str]:
    """gunicorn's command-line options for the API (without the bind address and the app)."""
    options = ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads)]
    options += ["--keep-alive", str(KEEP_ALIVE_SECONDS)]
    # No request runs long work (what-if replays are jobs for `remedy worker`): gunicorn's
    # 30 s before it calls a worker hung is ample. SIGTERM is graceful: requests in flight
    # finish within the graceful timeout.
    options += ["--timeout", "30", "--graceful-timeout", "30"]
    # Request lines up to gunicorn's maximum, so those over the app's own limit (4096 bytes)
    # get its 414 in the JSON envelope; longer ones get gunicorn's HTML 414 (its parser
    # answers before the app runs; see docs/deployment.md).
    options += ["--limit-request-line", "8190"]
    if os.path.isdir(SHARED_MEMORY):
        # The workers' heartbeat files on tmpfs: a slow disk never looks like a hung worker.
        options += ["--worker-tmp-dir", SHARED_MEMORY]
    return options


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", type=int, help="Worker processes [default: 2 on SQLite, 1 per core on PostgreSQL]."
)
@click.option("--threads", type=int, help="Threads per worker [default: 4 SQLite, 8 PostgreSQL].")
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int | None, threads: int | None, dev: bool) -> None:
    """Serve the API (gunicorn gthread workers; --dev for Flask's reloading server)."""
    if dev:
        current_or_new_app().run(host=host, port=port, debug=True)
        return
    defaults = serving_defaults(os.environ.get("REMEDY_DATABASE_URL", "sqlite"))
    workers = workers or defaults.workers
    threads = threads or defaults.threads
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers write their metric samples here so /metrics can add them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="remedy-metrics-")
    # One database connection per request thread (REMEDY_DATABASE_POOL_SIZE wins if set).
    os.environ.setdefault("REMEDY_DATABASE_POOL_SIZE", str(threads))
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    args += [*gunicorn_options(workers, threads), "remedy:create_app()"]
    start_job_worker()
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with gunicorn


def start_job_worker() -> subprocess.Popen[bytes]:
    """Start one `remedy worker` beside gunicorn (what-if replays run there, not in requests).

    gunicorn replaces this process (same pid), so the worker watches for that pid to stop
    being its parent and exits then; a signal to the process group (Ctrl-C) reaches it too.
    """
    command = [sys.executable, "-m", "remedy.cli", "worker", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and command

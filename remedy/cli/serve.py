"""`remedy serve`: the API behind nginx under gunicorn, or Flask's development server.

The supported topology, supervised (remedy/cli/supervise.py): nginx reads every request whole
against deadlines (remedy/cli/front), gunicorn behind it on a loopback port, one job worker.

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
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import click

from remedy.cli.common import current_or_new_app
from remedy.cli.front import FrontSettings, listen_address, nginx_binary, nginx_command, render
from remedy.cli.supervise import Child, Supervisor, own_pid
from remedy.config import MASS_INCIDENT_MAX_BYTES

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
    # gunicorn 27 opens a control socket at one fixed path per user (~/.gunicorn/gunicorn.ctl):
    # two services on a host (or parallel tests) would fight over it, and nothing here uses it.
    options += ["--no-control-socket"]
    if os.path.isdir(SHARED_MEMORY):
        # The workers' heartbeat files on tmpfs: a slow disk never looks like a hung worker.
        options += ["--worker-tmp-dir", SHARED_MEMORY]
    return options


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def choose_front(front: str, host: str) -> str | None:
    """The nginx binary to front gunicorn with, or None to serve gunicorn directly.

    `auto` uses nginx when it is installed; without it, gunicorn serves alone only on a
    loopback address (a laptop): on any other address a slow client could stall it, so
    `remedy serve` refuses and says how to go on.
    """
    if front == "none":
        return None
    binary = nginx_binary()
    if binary is not None:
        return binary
    if front == "nginx" or host not in LOOPBACK:
        raise click.ClickException(
            "nginx is not installed: it is the front that keeps slow clients from stalling the "
            "service (apt-get install nginx-light). To serve without it anyway, pass --front none."
        )
    click.echo("remedy serve: nginx not found; serving gunicorn alone on loopback", err=True)
    return None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", type=int, help="Worker processes [default: 2 on SQLite, 1 per core on PostgreSQL]."
)
@click.option("--threads", type=int, help="Threads per worker [default: 4 SQLite, 8 PostgreSQL].")
@click.option(
    "--front",
    type=click.Choice(["auto", "nginx", "none"]),
    default="auto",
    show_default=True,
    help="The buffering front before gunicorn: nginx (auto: when installed), or none.",
)
@click.option(
    "--header-timeout",
    default=10,
    show_default=True,
    envvar="REMEDY_HEADER_TIMEOUT",
    help="Seconds a client may take to send a request's headers (the front).",
)
@click.option(
    "--body-timeout",
    default=10,
    show_default=True,
    envvar="REMEDY_BODY_TIMEOUT",
    help="Seconds a client may pause while sending a body (the front).",
)
@click.option(
    "--keepalive-requests",
    default=1000,
    show_default=True,
    envvar="REMEDY_KEEPALIVE_REQUESTS",
    help="Requests one kept-alive connection may carry (the front).",
)
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of gunicorn.")
def serve(
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    front: str,
    header_timeout: int,
    body_timeout: int,
    keepalive_requests: int,
    dev: bool,
) -> None:
    """Serve the API: nginx in front of gunicorn gthread workers, and a job worker; all
    supervised (--dev for Flask's reloading server)."""
    if dev:
        current_or_new_app().run(host=host, port=port, debug=True)
        return
    nginx = choose_front(front, host)
    defaults = serving_defaults(os.environ.get("REMEDY_DATABASE_URL", "sqlite"))
    workers = workers or defaults.workers
    threads = threads or defaults.threads
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers write their metric samples here so /metrics can add them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="remedy-metrics-")
    # One database connection per request thread (REMEDY_DATABASE_POOL_SIZE wins if set).
    os.environ.setdefault("REMEDY_DATABASE_POOL_SIZE", str(threads))
    gunicorn = [sys.executable, "-m", "gunicorn", *gunicorn_options(workers, threads)]
    children = []
    if nginx is None:
        gunicorn += ["--bind", f"{host}:{port}", "--forwarded-allow-ips", ""]
        children.append(Child("gunicorn", lambda: [*gunicorn, APP]))
    else:
        run_dir = Path(tempfile.mkdtemp(prefix="remedy-front-"))
        upstream = f"127.0.0.1:{free_port()}"
        settings = FrontSettings(
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            keepalive_requests=keepalive_requests,
            # The front admits the largest body any route takes (a mass incident's CSV); the
            # app holds every other route to REMEDY_MAX_BODY_BYTES.
            max_body_bytes=max(
                int(os.environ.get("REMEDY_MAX_BODY_BYTES", str(64 * 1024))),
                int(os.environ.get("REMEDY_MASS_INCIDENT_MAX_BYTES", str(MASS_INCIDENT_MAX_BYTES))),
            ),
        )
        config = run_dir / "nginx.conf"
        config.write_text(render(settings, listen_address(host, port), upstream, run_dir))
        # Only the front, on loopback, may say who the client is (X-Forwarded-For, -Proto).
        gunicorn += ["--bind", upstream, "--forwarded-allow-ips", "127.0.0.1"]
        children.append(Child("gunicorn", lambda: [*gunicorn, APP]))
        children.append(
            Child(
                "nginx", lambda: nginx_command(nginx, config, run_dir), stop_signal=signal.SIGQUIT
            )
        )
    children.append(Child("job worker", job_worker_command, restart=True))
    sys.exit(Supervisor(children).run())


APP = "remedy:create_app()"


def job_worker_command() -> list[str]:
    """`remedy worker` beside gunicorn (what-if replays run there, not in requests).

    It stops when `remedy serve`, its parent, is gone; `remedy serve` restarts it whenever it
    exits.
    """
    return [sys.executable, "-m", "remedy.cli", "worker", "--parent-pid", str(own_pid())]


def free_port() -> int:
    """A free loopback port for gunicorn behind the front."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

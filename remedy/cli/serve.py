"""`remedy serve`: the API under gunicorn, or Flask's development server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import click

from remedy.cli.common import current_or_new_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the API (gunicorn; --dev for Flask's reloading server)."""
    if dev:
        current_or_new_app().run(host=host, port=port, debug=True)
        return
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers write their metric samples here so /metrics can add them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="remedy-metrics-")
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    # A what-if replay runs inside its request (up to REMEDY_WHATIF_MAX_INCIDENTS incidents):
    # give workers 120 s before gunicorn calls them hung. SIGTERM is graceful: requests in
    # flight finish within the graceful timeout.
    args += ["--timeout", "120", "--graceful-timeout", "30"]
    # Request lines up to gunicorn's maximum, so those over the app's own limit (4096 bytes)
    # get its 414 in the JSON envelope; longer ones get gunicorn's HTML 414 (its parser
    # answers before the app runs; see docs/deployment.md).
    args += ["--limit-request-line", "8190"]
    args += ["--workers", str(workers), "remedy:create_app()"]
    start_job_worker()
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with gunicorn


def start_job_worker() -> subprocess.Popen[bytes]:
    """Start one `remedy worker` beside gunicorn (what-if replays run there, not in requests).

    gunicorn replaces this process (same pid), so the worker watches for that pid to stop
    being its parent and exits then; a signal to the process group (Ctrl-C) reaches it too.
    """
    command = [sys.executable, "-m", "remedy.cli", "worker", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and command

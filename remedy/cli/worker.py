"""`remedy worker`: run queued jobs (what-if replays) outside the web workers.

`remedy serve` starts one beside gunicorn; run more on any host that reaches the database.
Jobs are rows of the `jobs` table (why not a broker: remedy/services/jobs.py), so a worker
needs nothing but the database. It runs what the app's job registry holds: each domain
registers its own kinds and periodic tasks (remedy/services/job_kinds.py), such as recording
overdue approval escalations every minute. SIGTERM or SIGINT stops it cleanly: a job in progress is
interrupted at its next progress report and put back in the queue for the next worker.
"""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta
from types import FrameType

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.services.app_services import services
from remedy.services.job_runner import JobRunner


@click.command()
@click.option("--once", is_flag=True, help="Run the queued jobs, then exit (none: exit at once).")
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes a what-if replay decides in (forked per job).",
)
@click.option(
    "--lease",
    default=60,
    show_default=True,
    envvar="REMEDY_JOB_LEASE",
    type=click.IntRange(5, 3600),
    help="Seconds a job stays claimed without a heartbeat before another worker may take it "
    "(REMEDY_JOB_LEASE; `remedy serve`'s worker takes it from there).",
)
@click.option("--poll", default=1.0, show_default=True, type=float, help="Seconds between looks.")
@click.option(
    "--nice",
    "niceness",
    default=10,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Lower this process's CPU priority so web requests on the same host go first.",
)
@click.option(
    "--parent-pid",
    default=None,
    type=int,
    hidden=True,
    help="Stop when this process is no longer the parent (remedy serve's gunicorn exited).",
)
def worker(
    once: bool, processes: int, lease: int, poll: float, niceness: int, parent_pid: int | None
) -> None:
    """Run queued jobs (what-if replays) and periodic upkeep (escalations) until stopped
    (SIGTERM): progress, result or error."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    if niceness:
        os.nice(niceness)
    app = current_or_new_app()
    wired = services(app)
    runner = JobRunner(
        db.database(app),
        wired.jobs,
        app.config,
        wired,
        processes=processes,
        lease=timedelta(seconds=lease),
        heartbeat=min(1.0, lease / 4),
        poll=poll,
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        runner.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with app.app_context():
            ran = runner.run(once=once, watch_parent=parent_pid)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db.database(app).dispose()
    click.echo(f"worker {runner.name}: {ran} job(s) run, stopping")

"""`remedy ledger`: verify the ledger and release expired reservations."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.ledger.book import verify_ledger
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService


@click.group()
def ledger() -> None:
    """Verify the ledger and release expired reservations."""


@ledger.command("verify")
@click.option("--show", default=50, show_default=True, help="Failures to print at most.")
def ledger_verify(show: int) -> None:
    """Recompute every balance from the ledger and check the invariants; exit 1 on failure."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        report, seconds = verify_ledger(session)
    summary = f"{report.entries} entries, {report.reservations} reservations in {seconds:.2f} s"
    if report.ok:
        click.echo(f"ledger verifies: {summary}")
        return
    for failure in report.failures[:show]:
        click.echo(f"FAIL {failure}")
    if len(report.failures) > show:
        click.echo(f"... and {len(report.failures) - show} more")
    click.echo(f"ledger does NOT verify: {len(report.failures)} failure(s); {summary}")
    sys.exit(1)


@ledger.command("expire")
def ledger_expire() -> None:
    """Release every reservation past its time, one pool and batch per transaction."""
    app = current_or_new_app()
    ttl = timedelta(seconds=app.config["RESERVATION_TTL_SECONDS"])
    total = 0
    with app.app_context():
        database = db.database(app)
        with database.unit_of_work() as session:
            caps = app_services.engines(app).engine(session).caps
            pools = LifecycleService(session, caps, ttl).overdue_pools()
        for team, currency in pools:
            while True:
                with database.unit_of_work() as session:
                    service = LifecycleService(session, caps, ttl)
                    service.begin()
                    released = service.expire_overdue(team, currency)
                total += released
                if not released:
                    break
    click.echo(f"released {total} expired reservation(s)")

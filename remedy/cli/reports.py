"""`remedy reports`: housekeeping of the reports' ticket rollup."""

from __future__ import annotations

import time

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.services.rollup_rebuild import rebuild


@click.group()
def reports() -> None:
    """Rebuild the reports' rollup from the decisions, reservations and outcomes."""


@reports.command("rebuild")
def reports_rebuild() -> None:
    """Recompute every ticket's row of the rollup from the raw rows (after an upgrade to
    0013d_touchpoints, or a bulk load that bypassed the service); one transaction."""
    app = current_or_new_app()
    started = time.perf_counter()
    with app.app_context(), db.database(app).unit_of_work() as session:
        tickets = rebuild(session)
    click.echo(f"rolled up {tickets} tickets in {time.perf_counter() - started:.1f} s")

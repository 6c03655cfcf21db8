"""`remedy idempotency`: housekeeping of stored Idempotency-Key answers."""

from __future__ import annotations

from datetime import timedelta

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.services.idempotency import IdempotencyService
from remedy.store.tables import utcnow


@click.group()
def idempotency() -> None:
    """Housekeeping of stored Idempotency-Key answers."""


@idempotency.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Keep keys claimed within this many days; a retry after that runs afresh.",
)
def idempotency_purge(days: int) -> None:
    """Delete stored Idempotency-Key answers older than --days (run it from cron)."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        purged = IdempotencyService(session).purge(utcnow() - timedelta(days=days))
    click.echo(f"purged {purged} idempotency key(s) older than {days} day(s)")

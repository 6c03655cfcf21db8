"""`remedy approvals`: escalate plans that waited too long for a lead (cron or a worker)."""

from __future__ import annotations

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.services.approvals import ApprovalService


@click.group()
def approvals() -> None:
    """Approval requests: escalation."""


@approvals.command("escalate")
def approvals_escalate() -> None:
    """Move every plan waiting for a lead past the caps' escalate_after to finance.

    Reads and the approval steps escalate lazily too; run this from cron (or a worker) so the
    finance queue is right even when nobody reads it."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        tiers = app.extensions["remedy.engines"].engine(session).caps.approvals
        escalated = ApprovalService(session, tiers).escalate_due()
    click.echo(f"escalated {escalated} approval request(s) to finance")

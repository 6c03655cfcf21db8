"""`remedy approvals`: escalate plans that waited too long for a lead (cron or a worker)."""

from __future__ import annotations

import click

from remedy.cli.common import current_or_new_app
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.approvals import ApprovalService


@click.group()
def approvals() -> None:
    """Approval requests: escalation."""


@approvals.command("escalate")
def approvals_escalate() -> None:
    """Record every plan waiting for a lead past the caps' escalate_after as escalated to
    finance (the lead keeps it too).

    Reads show what is due without writing it; `remedy worker` records it every minute. Run
    this from cron where no worker runs, so the audit trail has every escalation."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        tiers = app_services.engines(app).engine(session).caps.approvals
        escalated = ApprovalService(session, tiers).escalate_due()
    click.echo(f"escalated {escalated} approval request(s) to finance")

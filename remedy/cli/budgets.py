"""`remedy budgets`: set and list budget pools."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from remedy.cli.common import current_or_new_app
from remedy.cli.suggest_caps import suggest_caps_command
from remedy.errors import InvalidInput
from remedy.extensions import db
from remedy.ledger.budgets import BudgetService
from remedy.moments import MomentError, to_utc
from remedy.money import MoneyError, from_minor, parse_amount
from remedy.services import app_services
from remedy.store.tables import utcnow


@click.group()
def budgets() -> None:
    """Set and list budget pools."""


@budgets.command("set")
@click.argument("team")
@click.option("--period", type=click.Choice(["week", "month"]), required=True)
@click.option("--limit", "limit", default=None, help="Decimal amount, e.g. 5000.00: one line.")
@click.option("--fix-limit", default=None, help="The fix line (with --overdelivery-limit).")
@click.option("--overdelivery-limit", default=None, help="The overdelivery line.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR.")
@click.option("--effective-at", type=click.DateTime(), default=None, help="UTC; default now.")
def budgets_set(
    team: str,
    period: str,
    limit: str | None,
    fix_limit: str | None,
    overdelivery_limit: str | None,
    currency: str,
    effective_at: datetime | None,
) -> None:
    """Set TEAM's pool in a currency (a new, audited version; `default` is the fallback pool):
    one --limit for fix and overdelivery money, or --fix-limit and --overdelivery-limit."""
    amounts = {}
    for hint, text in (
        ("--limit", limit),
        ("--fix-limit", fix_limit),
        ("--overdelivery-limit", overdelivery_limit),
    ):
        try:
            amounts[hint] = None if text is None else parse_amount(text)
        except MoneyError as error:
            raise click.BadParameter(str(error), param_hint=hint) from None
    try:
        when = to_utc(effective_at.replace(tzinfo=UTC)) if effective_at else None
    except MomentError as error:
        raise click.BadParameter(str(error), param_hint="--effective-at") from None
    app = current_or_new_app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            pool = BudgetService(session).set_pool(
                team,
                period,
                amounts["--limit"],
                currency.upper(),
                "cli",
                when,
                amounts["--fix-limit"],
                amounts["--overdelivery-limit"],
            )
            c = pool.currency
            lines, total = "", amounts["--limit"]
            if pool.fix_limit_minor is not None:
                total = from_minor(pool.limit_minor, c)
                lines = (
                    f" (fix line {from_minor(pool.fix_limit_minor, c)}, overdelivery line "
                    f"{from_minor(pool.limit_minor - pool.fix_limit_minor, c)})"
                )
            click.echo(
                f"{pool.team} {c}: {total}{lines} per {pool.period} "
                f"(version {pool.version}, from {pool.effective_at:%Y-%m-%d %H:%M} UTC)"
            )
    except InvalidInput as error:
        raise click.ClickException(f"{error.message}: {error.errors}") from None


@budgets.command("list")
def budgets_list() -> None:
    """List every pool in effect: limit, reserved, committed, remaining and pace."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        pacing = app_services.engines(app).engine(session).caps.limits.pacing
        for pool in BudgetService(session).overview(utcnow(), pacing):
            state, c = pool.state, pool.currency
            click.echo(
                f"{pool.team:<12} {pool.period.key:<9} {c} "
                f"limit {from_minor(state.limit_minor, c):>12} "
                f"reserved {from_minor(state.reserved_minor, c):>12} "
                f"committed {from_minor(state.committed_minor, c):>12} "
                f"remaining {from_minor(state.remaining_minor, c):>12} "
                f"price {pool.pacing.cost_price}"
            )
            if state.split:  # each line: its limit, what it holds, what is left
                for line in (state.fix_line, state.overdelivery_line):
                    click.echo(
                        f"{'':<12} {line.line:<12} limit {from_minor(line.limit_minor, c):>12} "
                        f"held {from_minor(line.held_minor, c):>12} "
                        f"remaining {from_minor(line.remaining_minor, c):>12}"
                    )


budgets.add_command(suggest_caps_command)

"""The `remedy` command: one group; each command or group of commands has its own module."""

from __future__ import annotations

import click

from remedy.cli import (
    budgets,
    idempotency,
    init,
    keys,
    ledger,
    model_versions,
    serve,
    simulate,
    suggest,
    suggest_caps,
    train,
    whatif,
)

PROG_NAME = "remedy"


@click.group(name=PROG_NAME)
def cli() -> None:
    """Service-recovery decisions: ranked remedy plans inside the budget."""


cli.add_command(init.init)
cli.add_command(serve.serve)
cli.add_command(suggest.suggest)
cli.add_command(keys.keys)
cli.add_command(budgets.budgets)
budgets.budgets.add_command(suggest_caps.suggest_caps_command)
cli.add_command(ledger.ledger)
cli.add_command(idempotency.idempotency)
cli.add_command(model_versions.models)
cli.add_command(train.train)
cli.add_command(simulate.simulate)
cli.add_command(whatif.whatif)


def main() -> None:
    """Run the command; it is named `remedy` whether started as a script or with `python -m`."""
    cli(prog_name=PROG_NAME)

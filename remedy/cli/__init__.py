"""The `remedy` command: one group; each command or group of commands has its own module."""

from __future__ import annotations

import importlib

import click

PROG_NAME = "remedy"

# Each command's home and its one-line help, imported only when the command runs (or its own
# help is asked for), so that `remedy --help` loads neither SQLAlchemy, the rule engine nor
# scikit-learn. tests/cli/test_help.py checks each line against the command's own short help.
COMMANDS = {
    "approvals": ("remedy.cli.approvals:approvals", "Approval requests: escalation."),
    "budgets": ("remedy.cli.budgets:budgets", "Set and list budget pools."),
    "idempotency": (
        "remedy.cli.idempotency:idempotency",
        "Housekeeping of stored Idempotency-Key answers.",
    ),
    "init": (
        "remedy.cli.init:init",
        "Migrate the database, load catalog, rules and caps, and create the first admin key.",
    ),
    "keys": ("remedy.cli.keys:keys", "Create, list and revoke API keys."),
    "ledger": ("remedy.cli.ledger:ledger", "Verify the ledger and release expired reservations."),
    "models": (
        "remedy.cli.model_versions:models",
        "List, promote and roll back ranking model versions.",
    ),
    "reports": (
        "remedy.cli.reports:reports",
        "Rebuild the reports' rollup from the decisions, reservations and outcomes.",
    ),
    "serve": (
        "remedy.cli.serve:serve",
        "Serve the API: nginx in front of gunicorn gthread workers, and a job worker; all "
        "supervised (--dev for Flask's reloading server).",
    ),
    "simulate": (
        "remedy.cli.simulate:simulate",
        "Drive the service with simulated customers: decisions, accepts, outcomes (for demos).",
    ),
    "suggest": (
        "remedy.cli.suggest:suggest",
        "Print ranked plans for an incident given as flags (nothing is stored).",
    ),
    "train": (
        "remedy.cli.train:train",
        "Retrain from logged decisions and outcomes; evaluate; register the new version.",
    ),
    "whatif": (
        "remedy.cli.whatif:whatif",
        "Replay logged decisions under proposed caps or rules vs the current ones; writes nothing.",
    ),
    "worker": (
        "remedy.cli.worker:worker",
        "Run queued jobs (what-if replays) and periodic upkeep (escalations) until stopped "
        "(SIGTERM): progress, result or error.",
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy pattern)."""

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]], **kwargs: object) -> None:
        """Name each command's `module:attribute` and one-line help."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, eager and lazy, in alphabetical order."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Import a lazy command when it is asked for."""
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, attribute = self.lazy[name][0].split(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[name][0]} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their one-line help, without importing them."""
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(name=PROG_NAME, cls=LazyGroup, lazy=COMMANDS)
def cli() -> None:
    """Service-recovery decisions: ranked remedy plans inside the budget."""


def main() -> None:
    """Run the command; it is named `remedy` whether started as a script or with `python -m`."""
    cli(prog_name=PROG_NAME)

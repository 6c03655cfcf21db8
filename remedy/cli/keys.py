"""`remedy keys`: create, list and revoke API keys."""

from __future__ import annotations

import click

from remedy.cli.common import current_or_new_app
from remedy.errors import InvalidInput, NotFound
from remedy.extensions import db
from remedy.services.keys import ROLES, KeyService


@click.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--team", default=None, help="Scope the key to one team (required for lead).")
@click.option("--label", default="", help="Who or what uses the key.")
def keys_create(role: str, team: str | None, label: str) -> None:
    """Create a key and print it (it is shown only once)."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        try:
            token, row = KeyService(session).create(role, team, label, actor="cli")
        except InvalidInput as error:
            raise click.ClickException(error.message) from None
    click.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List keys (prefix, role, team, label, state); secrets are never shown."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        for row in KeyService(session).list():
            state = "revoked" if row.revoked_at else "active"
            click.echo(f"{row.prefix}  {row.role:<8} {row.team or '-':<12} {state:<8} {row.label}")


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX."""
    app = current_or_new_app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            KeyService(session).revoke(prefix, actor="cli")
    except NotFound as error:
        raise click.ClickException(error.message) from None
    click.echo(f"revoked {prefix}")

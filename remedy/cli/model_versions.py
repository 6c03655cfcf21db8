"""`remedy models`: list, promote and roll back ranking model versions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from remedy.cli.common import current_or_new_app, model_cache_dir
from remedy.errors import DomainError
from remedy.extensions import db

if TYPE_CHECKING:
    from remedy.services.model_registry import ModelRegistry


def _registry(session: Session) -> ModelRegistry:
    """Return the model registry on `session`."""
    # Imported when a command runs: the registry brings scikit-learn and skops, slow at CLI start.
    from remedy.services.model_registry import ModelRegistry

    return ModelRegistry(session)


@click.group()
def models() -> None:
    """List, promote and roll back ranking model versions."""


@models.command("list")
def models_list() -> None:
    """List model versions (newest first); * marks the one in use."""
    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        registry = _registry(session)
        current = registry.current()
        click.echo(f"in use: {current or 'heuristic prior (no model promoted)'}")
        for row in registry.versions():
            holdout = row.card.get("metrics", {}).get("holdout", {}).get("retention", {})
            auc = holdout.get("auc")
            mark = "*" if row.version == current else " "
            click.echo(
                f"{mark} {row.version:<28} {row.created_at:%Y-%m-%d %H:%M}  "
                f"AUC {auc:.3f}  rows {row.card.get('training_window', {}).get('rows', '?')}"
                if auc is not None
                else f"{mark} {row.version:<28} {row.created_at:%Y-%m-%d %H:%M}"
            )


@models.command("promote")
@click.argument("version")
@click.option("--reason", default="", help="Why (kept in the audit log).")
def models_promote(version: str, reason: str) -> None:
    """Make VERSION rank plans on every worker from their next request."""
    app = current_or_new_app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            _registry(session).promote(version, "cli", reason, model_cache_dir(app))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"promoted {version}")


@models.command("rollback")
def models_rollback() -> None:
    """Promote again the version in use before the current one."""
    app = current_or_new_app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            promotion = _registry(session).rollback("cli", model_cache_dir(app))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"rolled back to {promotion.version}")

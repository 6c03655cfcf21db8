"""`remedy models`: list, promote and roll back ranking model versions; champion/challenger
experiments (`remedy models experiment ...`)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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


@models.group("experiment")
def experiment() -> None:
    """Champion/challenger experiments: start, stop, status, check (promote or retire)."""


@experiment.command("start")
@click.argument("challenger")
@click.option("--share", required=True, help="The challenger's share of customers, e.g. 0.2.")
@click.option("--alpha", default=0.05, show_default=True, help="Chance of a false promotion.")
@click.option("--max-per-arm", default=20000, show_default=True, help="Outcomes per arm at most.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
def experiment_start(
    challenger: str, share: str, alpha: float, max_per_arm: int, reason: str
) -> None:
    """Put CHALLENGER (a version that passed the offline gate) on a share of customers."""
    from remedy.services.experiments import ExperimentService

    app = current_or_new_app()
    try:
        amount = Decimal(share)
    except InvalidOperation:
        raise click.BadParameter(f"{share!r} is not a decimal", param_hint="--share") from None
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            row = ExperimentService(session).start(
                challenger, amount, "cli", alpha=alpha, max_per_arm=max_per_arm, reason=reason
            )
            click.echo(f"started experiment {row.id}: {challenger} on {share} of customers")
    except DomainError as error:
        raise click.ClickException(error.message) from None


@experiment.command("stop")
@click.argument("experiment_id")
@click.option("--reason", default="", help="Why (kept in the audit log).")
def experiment_stop(experiment_id: str, reason: str) -> None:
    """End an experiment without promoting anything."""
    from remedy.services.experiments import ExperimentService

    app = current_or_new_app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            ExperimentService(session).stop(experiment_id, "cli", reason)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"stopped {experiment_id}")


@experiment.command("status")
def experiment_status() -> None:
    """The latest experiments and each one's latest comparison."""
    from remedy.services.experiments import ExperimentService

    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        service = ExperimentService(session)
        for row in service.list():
            latest = service.checks(row.id, limit=1)
            found = latest[0].comparison if latest else {}
            interval = (
                "difference {:+.2f} [{:+.2f}, {:+.2f}]".format(
                    *(Decimal(str(found[side])) for side in ("difference", "low", "high"))
                )
                if found.get("difference") is not None
                else "no interval yet"
            )
            click.echo(
                f"{row.id} {row.state:<9} {row.challenger} vs {row.champion} share {row.share} "
                f"n {found.get('n', {})} {interval} {row.end_reason or ''}".rstrip()
            )


@experiment.command("check")
def experiment_check() -> None:
    """Check the running experiment now (what the worker does every 5 minutes): store the
    comparison, and promote or retire when the interval excludes zero or the sample is done."""
    from remedy.services.app_services import engines
    from remedy.services.experiments import ExperimentService

    app = current_or_new_app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        line = ExperimentService(session).check(engines(app).values, "cli", model_cache_dir(app))
    click.echo(line or "no experiment is running")

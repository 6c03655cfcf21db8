"""`remedy train`: retrain from logged outcomes, evaluate, register, and maybe promote."""

from __future__ import annotations

from pathlib import Path

import click

from remedy.cli.common import current_or_new_app, model_cache_dir
from remedy.decisions.ranker import ValueSettings
from remedy.extensions import db


@click.command()
@click.option("--version", default=None, help="Version name (default: logged-<timestamp>).")
@click.option(
    "--promote-if-better",
    is_flag=True,
    help="Promote only if the new model's doubly robust lower bound beats the current "
    "model's estimate on the holdout.",
)
@click.option("--min-rows", default=200, show_default=True, type=click.IntRange(10))
@click.option("--seed", default=0, show_default=True)
@click.option("--no-progress", is_flag=True)
def train(
    version: str | None, promote_if_better: bool, min_rows: int, seed: int, no_progress: bool
) -> None:
    """Retrain from logged decisions and outcomes; evaluate; register the new version."""
    # Training and the model registry bring scikit-learn: imported when this command runs.
    from remedy.services.model_registry import ModelRegistry
    from training.from_logs import now_version, promotion_verdict, train_from_logs

    app = current_or_new_app()
    version = version or now_version()
    out = Path(app.config["MODEL_DIR"]) / "trained" / version
    values = ValueSettings(app.config["HORIZON_YEARS"], app.config["REFERRAL_SHARE"])
    with app.app_context(), db.database(app).unit_of_work() as session:
        current = app.extensions["remedy.scorer"](session)
        try:
            card = train_from_logs(
                session,
                out,
                current,
                values,
                version=version,
                min_rows=min_rows,
                seed=seed,
                progress=not no_progress,
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        ModelRegistry(session).register(out, "train")
    holdout = card["metrics"]["holdout"]["retention"]
    click.echo(f"wrote {out} and registered {version}")
    click.echo(
        f"holdout: log loss {holdout['log_loss']:.4f}, AUC {holdout['auc'] or 0:.3f}, "
        f"Brier {holdout['brier']:.4f}"
    )
    for policy, estimates in card["metrics"].get("policy_values", {}).items():
        text = ", ".join(
            f"{e['method']} {e['value']:.1f} [{e['low']:.1f}, {e['high']:.1f}]" for e in estimates
        )
        click.echo(f"policy value ({policy}, USD per decision): {text}")
    if not promote_if_better:
        return
    promote, why = promotion_verdict(card)
    if not promote:
        click.echo(f"not promoted: {why}")
        return
    with app.app_context(), db.database(app).unit_of_work() as session:
        ModelRegistry(session).promote(version, "train", why, model_cache_dir(app))
    click.echo(f"promoted {version}: {why}")

"""`remedy train`: retrain from logged outcomes, evaluate, register, and maybe promote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from remedy.cli.common import current_or_new_app, model_cache_dir
from remedy.errors import NotFound
from remedy.extensions import db
from remedy.services import app_services


@click.command()
@click.option("--version", default=None, help="Version name (default: logged-<timestamp>).")
@click.option(
    "--promote-if-better",
    is_flag=True,
    help="Promote only if the off-policy gate finds the new model better than the current one "
    "on the holdout (training/gate.py: paired difference, overlap, effective sample size).",
)
# 200 decisions leave a 40-decision holdout: the least that trains both pipelines and gives the
# gate something to read (it still refuses to promote until overlap and ESS are there).
@click.option("--min-rows", default=200, show_default=True, type=click.IntRange(200))
@click.option("--seed", default=0, show_default=True)
@click.option("--no-progress", is_flag=True)
def train(
    version: str | None, promote_if_better: bool, min_rows: int, seed: int, no_progress: bool
) -> None:
    """Retrain from logged decisions and outcomes; evaluate; register the new version."""
    # Training and the model registry bring scikit-learn: imported when this command runs.
    from remedy.services.configs import ConfigService
    from remedy.services.model_registry import ModelRegistry
    from training.from_logs import now_version, train_from_logs
    from training.gate import promotion_verdict

    app = current_or_new_app()
    version = version or now_version()
    out = Path(app.config["MODEL_DIR"]) / "trained" / version
    values = app_services.engines(app).values
    exploration, _ = app_services.exploration(app)
    with app.app_context(), db.database(app).unit_of_work() as session:
        current = app_services.scorer(app)(session)
        # finance's rates (PUT /v1/exchange-rates), never a table in the code
        try:
            rates = ConfigService(session).exchange_rates()
        except NotFound as error:  # a database from before the rates were a document
            raise click.ClickException(str(error)) from None
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
                rates=rates.as_floats(),
                rates_version=rates.version,
                exploration=exploration,
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
    calibration = card.get("calibration") or {}
    if calibration.get("method"):
        errors = calibration["holdout_calibration_error"]
        click.echo(
            f"calibration: {calibration['method']} on the latest {calibration['slice_rows']} "
            f"training rows; holdout calibration error {errors['before']:.3f} before, "
            f"{errors['after']:.3f} after"
        )
    elif calibration:
        click.echo(f"calibration: none ({calibration['skipped']})")
    net = card["metrics"]["holdout"].get("net_value") or {}
    if net.get("ratio") is not None:
        click.echo(
            f"holdout net value (USD per decision): predicted {net['predicted_mean']:.1f}, "
            f"realised {net['realised_mean']:.1f}, ratio {net['ratio']:.2f} over {net['rows']}"
        )
    for name, cells in (net.get("segments") or {}).items():
        text = ", ".join(
            f"{label} {cell['net_value_ratio']:.2f} ({cell['rows']})"
            for label, cell in cells.items()
            if cell["net_value_ratio"] is not None
        )
        click.echo(f"  predicted/realised by {name}: {text}")
    for policy, estimates in card["metrics"].get("policy_values", {}).items():
        text = ", ".join(
            f"{e['method']} {e['value']:.1f} [{e['low']:.1f}, {e['high']:.1f}]" for e in estimates
        )
        click.echo(f"policy value ({policy}, USD per decision): {text}")
    _echo_gate(card)
    if not promote_if_better:
        return
    promote, why = promotion_verdict(card)
    if not promote:
        click.echo(f"not promoted: {why}")
        return
    with app.app_context(), db.database(app).unit_of_work() as session:
        ModelRegistry(session).promote(version, "train", why, model_cache_dir(app))
    click.echo(f"promoted {version}: {why}")


def _echo_gate(card: dict[str, Any]) -> None:
    """Print the paired comparison and the rows left out for want of an exchange rate."""
    gate = card["metrics"].get("gate")
    if gate:
        text = ", ".join(
            f"{e['method']} {e['value']:+.1f} [{e['low']:+.1f}, {e['high']:+.1f}]"
            for e in gate["differences"]
        )
        click.echo(f"candidate minus current (USD per decision, paired): {text}")
        for key, name in (("new", "candidate"), ("old", "current")):
            found = gate[key]
            click.echo(
                f"overlap ({name}): picks the plan shown first in {found['agreement']:.1%} of "
                f"{gate['rows']} holdout decisions, effective sample size {found['ess']:.1f}, "
                f"{found['clipped']:.1%} of weights clipped at {gate['max_weight']:g}"
            )
        support = gate.get("support")
        if support:
            click.echo(
                f"support: the candidate's pick could have been shown first in "
                f"{support['new']:.1%} of holdout decisions, the current model's in "
                f"{support['old']:.1%}"
            )
        losses = gate.get("retention_log_loss")
        if losses:
            click.echo(
                f"holdout log loss on {losses['rows']} logged plans: candidate "
                f"{losses['candidate']:.4f}, current {losses['current']:.4f}; calibration "
                f"error {losses['calibration_error']['candidate']:.3f} and "
                f"{losses['calibration_error']['current']:.3f}"
            )
    source = card.get("source", {})
    prior = source.get("prior")
    if prior:
        click.echo(
            f"prior: {prior['model']} distilled on {prior['pseudo_rows']} candidate plans, "
            f"weighted as {prior['strength']:.0f} logged decisions"
        )
    missing = source.get("currencies_without_rate") or {}
    if missing:
        listed = ", ".join(f"{c} ({n})" for c, n in missing.items())
        click.echo(
            f"{source['rows_without_rate']} decisions in currencies without an exchange rate "
            f"trained the model but are left out of the policy values: {listed}"
        )

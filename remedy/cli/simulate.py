"""`remedy simulate`: drive the service with simulated customers (for demos)."""

from __future__ import annotations

import click

from remedy.cli.common import current_or_new_app


@click.command()
@click.option("--incidents", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--team", default="sim", show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--no-progress", is_flag=True)
@click.option("--url", default=None, help="Drive a running service over HTTP (with --key).")
@click.option("--key", default=None, envvar="REMEDY_API_KEY", help="API key for --url.")
@click.option(
    "--world",
    default=None,
    type=click.IntRange(0, 2**31 - 1),
    help="Customers of a world drawn from this seed (training/world.py), unlike the one the "
    "bundled model was trained in; default: that home world.",
)
def simulate(
    incidents: int,
    team: str,
    seed: int,
    no_progress: bool,
    url: str | None,
    key: str | None,
    world: int | None,
) -> None:
    """Drive the service with simulated customers: decisions, accepts, outcomes (for demos)."""
    # The simulator lives in training/, which brings scikit-learn: imported when this runs.
    from training.world import HOME, World

    customers = HOME if world is None else World.drawn(world)
    if url:
        from training.drive_http import simulate_http

        report = simulate_http(
            url, key, incidents, team, seed, progress=not no_progress, world=customers
        )
    else:
        from training.drive import drive

        report = drive(
            current_or_new_app(), incidents, team, seed, progress=not no_progress, world=customers
        )
    click.echo(
        f"{report.decisions} decisions, {report.accepted} accepted, {report.refused} refused by "
        f"budget limits, {report.retained} customers retained"
    )

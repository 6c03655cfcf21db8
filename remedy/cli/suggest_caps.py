"""`remedy budgets suggest-caps`: search the caps that earn most within one pool (long work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from remedy.cli.replaying import day_range, whatif_service
from remedy.whatif.suggest import suggest_caps


@click.command("suggest-caps")
@click.argument("team")
@click.option("--currency", required=True, help="The pool's currency, e.g. EUR.")
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD, UTC) replayed.")
@click.option("--to", "end", required=True, help="Day after the last one replayed.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Suggested caps YAML.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def suggest_caps_command(
    team: str, currency: str, start: str, end: str, out: str | None, workers: int
) -> None:
    """Suggest caps for TEAM's pool: the most expected net value over the decisions logged in
    [--from, --to) without exhausting the pool before its period ends. Writes nothing but --out."""
    start_at, end_at = day_range(start, end)
    with whatif_service(workers, "searching", "step") as (service, progress):
        result = suggest_caps(service, team, currency.upper(), start_at, end_at, progress=progress)
    click.echo(render(result))
    if out:
        Path(out).write_text(yaml.safe_dump(result["suggested"]["caps"], sort_keys=False))
        click.echo(f"suggested caps written to {out} (try: remedy whatif --caps {out})")


def render(result: dict[str, Any]) -> str:
    """Today's caps beside the suggestion, then what changes and the notes."""
    today, best = result["today"], result["suggested"]
    currency = result["currency"]
    lines = [
        f"pool {result['team']} {currency}: {result['limit']} per {result['period']}; "
        f"replayed {result['from']} .. {result['to']} ({today['decisions']} decisions, "
        f"{result['trials']} settings tried)",
        f"{'':26}{'today':>18}{'suggested':>18}",
    ]
    for label, key in (
        ("spend", "spend"),
        ("projected per period", "projected_spend"),
        ("expected net value", "expected_net_value"),
        ("within the pool", "feasible"),
        ("approvals needed", "approvals_needed"),
        ("share hitting the cap", "capped_share"),
        ("expected retention", "expected_retention"),
    ):
        lines.append(f"{label:26}{today[key]!s:>18}{best[key]!s:>18}")
    factors = ", ".join(f"{k} x{v}" for k, v in best["factors"].items())
    lines.append(f"factors: {factors}")
    lines += [f"  {c['path']}: {c['today']} -> {c['suggested']}" for c in result["changes"]]
    lines += result["notes"]
    return "\n".join(lines)

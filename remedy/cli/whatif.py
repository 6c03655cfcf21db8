"""`remedy whatif`: replay logged decisions under proposed caps or rules, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from remedy.cli.replaying import day_range, whatif_service
from remedy.money import MoneyError, parse_decimal
from remedy.whatif.plot import plot_sweep


@click.command()
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD, UTC) replayed.")
@click.option("--to", "end", required=True, help="Day after the last one replayed.")
@click.option("--caps", "caps_file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--sweep", default=None, help="PATH=V1,V2,... over the caps document.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Sweep curve PNG.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def whatif(
    start: str,
    end: str,
    caps_file: str | None,
    rules_file: str | None,
    sweep: str | None,
    plot: str | None,
    workers: int,
) -> None:
    """Replay logged decisions under proposed caps or rules vs the current ones; writes nothing."""
    start_at, end_at = day_range(start, end)
    proposed = {
        kind: yaml.safe_load(Path(path).read_text())
        for kind, path in (("caps", caps_file), ("rules", rules_file))
        if path
    }
    sweep_spec = None
    if sweep:
        path, _, values = sweep.partition("=")
        if not values:
            raise click.BadParameter("use PATH=V1,V2,...", param_hint="--sweep")
        sweep_spec = {"path": path, "values": [v.strip() for v in values.split(",")]}
        for value in sweep_spec["values"]:
            try:  # the API's rule for sweep values: plain decimal text (remedy.money)
                parse_decimal(value, signed=True)
            except MoneyError as error:
                raise click.BadParameter(f"{value!r}: {error}", param_hint="--sweep") from None
    with whatif_service(workers, "replaying", "decision") as (service, progress):
        result = service.simulate(start_at, end_at, proposed, None, sweep_spec, progress)
    click.echo(_comparison(result))
    if plot and "sweep" in result:
        plot_sweep(result["sweep"], Path(plot), result["current"])  # imports matplotlib now
        click.echo(f"sweep curve written to {plot}")


def _comparison(result: dict[str, Any]) -> str:
    """Render current vs proposed side by side, then the sweep curve."""
    current, proposed = result["current"], result["proposed"]

    def money(amounts: dict[str, Any]) -> str:
        return ", ".join(f"{v} {c}" for c, v in amounts.items()) or "-"

    rows = [
        ("decisions replayed", current["decisions"], proposed["decisions"]),
        ("plans chosen", current["chosen"], proposed["chosen"]),
        ("no plan", current["no_plan"], proposed["no_plan"]),
        ("skipped for budget", current["skipped_for_budget"], proposed["skipped_for_budget"]),
        ("  broke the pool", current["skipped_for_pool"], proposed["skipped_for_pool"]),
        (
            "    its fix line",
            current.get("skipped_for_fix_line", 0),
            proposed.get("skipped_for_fix_line", 0),
        ),
        (
            "    its overdelivery line",
            current.get("skipped_for_overdelivery_line", 0),
            proposed.get("skipped_for_overdelivery_line", 0),
        ),
        (
            "  broke customer window",
            current["skipped_for_customer_window"],
            proposed["skipped_for_customer_window"],
        ),
        (
            "  contacts full",
            current["skipped_for_contact_capacity"],
            proposed["skipped_for_contact_capacity"],
        ),
        ("spend", money(current["spend"]), money(proposed["spend"])),
        (
            "  of it fixes",
            money(current.get("spend_by_line", {}).get("fix", {})),
            money(proposed.get("spend_by_line", {}).get("fix", {})),
        ),
        (
            "  of it overdelivery",
            money(current.get("spend_by_line", {}).get("overdelivery", {})),
            money(proposed.get("spend_by_line", {}).get("overdelivery", {})),
        ),
        (
            "expected net value",
            money(current["expected_net_value"]),
            money(proposed["expected_net_value"]),
        ),
        ("expected retention", current["expected_retention"], proposed["expected_retention"]),
        ("share hitting the cap", current["capped_share"], proposed["capped_share"]),
        ("approvals needed", current["approvals_needed"], proposed["approvals_needed"]),
    ]
    lines = [f"what-if {result['from']} .. {result['to']} (model {result['model']})"]
    lines.append(f"{'':24}  {'current':<40}  proposed")
    lines += [f"{name:24}  {str(a):<40}  {b}" for name, a, b in rows]
    for label, key in (("by kind", "spend_by_kind"), ("by fault type", "spend_by_fault_type")):
        for group in sorted(set(current[key]) | set(proposed[key])):
            lines.append(
                f"{'spend ' + label + ' ' + group:24}  "
                f"{money(current[key].get(group, {})):<40}  {money(proposed[key].get(group, {}))}"
            )
    if "sweep" in result:
        lines.append(f"sweep of {result['sweep']['path']}:")
        for point in result["sweep"]["curve"]:
            lines.append(
                f"  {point['value']:>8}  spend {money(point['spend'])}  "
                f"expected net value {money(point['expected_net_value'])}"
            )
    return "\n".join(lines)

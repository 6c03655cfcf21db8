"""Draw a what-if sweep: modelled spend against expected net value, one panel per currency.

Only currencies whose spend or value moves across the sweep get a panel (a flat line says
nothing), today's setting is marked, and points that land on one spot share one label.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any


def changed_currencies(sweep: dict[str, Any]) -> list[str]:
    """The currencies whose spend or expected net value differs between sweep points."""
    currencies = sorted({c for point in sweep["curve"] for c in point["spend"]})
    return [
        c
        for c in currencies
        if len(
            {(p["spend"].get(c, "0"), p["expected_net_value"].get(c, "0")) for p in sweep["curve"]}
        )
        > 1
    ]


def plot_sweep(sweep: dict[str, Any], out: Path, current: dict[str, Any] | None = None) -> None:
    """Write the sweep's curve as a PNG (matplotlib's Agg backend: no display needed);
    `current` (the replay under today's settings) places today's marker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    currencies = changed_currencies(sweep)
    figure, axes_list = plt.subplots(
        max(1, len(currencies)), 1, figsize=(7, 4.2 * max(1, len(currencies))), squeeze=False
    )
    if not currencies:
        axes = axes_list[0][0]
        axes.text(0.5, 0.5, "no currency's spend or value moved", ha="center", va="center")
        axes.set_axis_off()
    for axes, currency in zip((row[0] for row in axes_list), currencies, strict=False):
        groups: dict[tuple[float, float], list[str]] = {}
        spend, value = [], []
        for point in sweep["curve"]:
            x = float(Decimal(point["spend"].get(currency, "0")))
            y = float(Decimal(point["expected_net_value"].get(currency, "0")))
            spend.append(x)
            value.append(y)
            groups.setdefault((x, y), []).append(point["value"])
        axes.plot(spend, value, marker="o", color="#1f5fbf")
        for index, ((x, y), values) in enumerate(groups.items()):
            offset = (6, 6 if index % 2 == 0 else -12)  # alternate above and below the line
            axes.annotate(", ".join(values), (x, y), textcoords="offset points", xytext=offset)
        if current is not None and currency in current["spend"]:
            x = float(Decimal(current["spend"][currency]))
            y = float(Decimal(current["expected_net_value"].get(currency, "0")))
            label = f"today ({sweep.get('current_value')})"
            axes.plot(
                [x], [y], marker="D", markersize=9, color="#a15c00", linestyle="", label=label
            )
            axes.legend(loc="lower right")
        axes.set_xlabel(f"modelled spend ({currency})")
        axes.set_ylabel(f"expected net value ({currency})")
        axes.set_title(f"sweep of {sweep['path']} ({currency})")
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)

"""Draw a what-if sweep: modelled spend against expected net value, one line per currency."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any


def plot_sweep(sweep: dict[str, Any], out: Path) -> None:
    """Write the sweep's curve as a PNG (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    currencies = sorted({c for point in sweep["curve"] for c in point["spend"]})
    for currency in currencies:
        points = [p for p in sweep["curve"] if currency in p["spend"]]
        spend = [float(Decimal(p["spend"][currency])) for p in points]
        value = [float(Decimal(p["expected_net_value"].get(currency, "0"))) for p in points]
        axes.plot(spend, value, marker="o", label=currency)
        for x, y, point in zip(spend, value, points, strict=True):
            axes.annotate(point["value"], (x, y), textcoords="offset points", xytext=(4, 4))
    axes.set_xlabel("modelled spend")
    axes.set_ylabel("expected net value")
    axes.set_title(f"sweep of {sweep['path']}")
    if currencies:
        axes.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)

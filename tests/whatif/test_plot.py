"""The sweep's PNG: only the currencies that moved, today's setting marked."""

from pathlib import Path

from remedy.whatif.plot import changed_currencies, plot_sweep

SWEEP = {
    "path": "incident_caps.default.loss_multiple",
    "current_value": "2",
    "curve": [
        {
            "value": "1",
            "spend": {"EUR": "10.00", "USD": "5.00"},
            "expected_net_value": {"EUR": "90.00", "USD": "50.00"},
        },
        {
            "value": "2",
            "spend": {"EUR": "20.00", "USD": "5.00"},
            "expected_net_value": {"EUR": "95.00", "USD": "50.00"},
        },
    ],
}


def test_only_currencies_that_moved_are_drawn():
    assert changed_currencies(SWEEP) == ["EUR"]
    flat = {
        **SWEEP,
        "curve": [
            {**p, "spend": {"USD": "5.00"}, "expected_net_value": {"USD": "1"}}
            for p in SWEEP["curve"]
        ],
    }
    assert changed_currencies(flat) == []


def test_the_plot_is_a_png_with_or_without_a_moving_currency(tmp_path: Path):
    current = {"spend": {"EUR": "20.00"}, "expected_net_value": {"EUR": "95.00"}}
    for name, sweep in (("moved", SWEEP), ("flat", {**SWEEP, "curve": SWEEP["curve"][:1]})):
        out = tmp_path / f"{name}.png"
        plot_sweep(sweep, out, current)
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

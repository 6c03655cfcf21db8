"""`remedy whatif`: the comparison, the sweep and its plot, from the command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from click.testing import CliRunner

from remedy.cli import cli
from remedy.store.tables import utcnow
from tests.factories import default_document


def test_whatif_prints_the_comparison_and_plots_the_sweep(tmp_path: Path):
    """Init, simulate some traffic, then compare a stricter caps file with a sweep."""
    env = {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    runner = CliRunner()
    assert runner.invoke(cli, ["init"], env=env, catch_exceptions=False).exit_code == 0
    simulated = runner.invoke(cli, ["simulate", "--incidents", "12"], env=env)
    assert simulated.exit_code == 0, simulated.output
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1"
    caps["contact_capacity"] = {"agent": 0, "manager": 0, "executive": 0}
    caps_file = tmp_path / "caps.yaml"
    caps_file.write_text(yaml.safe_dump(caps))
    today = utcnow().date()
    plot = tmp_path / "sweep.png"
    result = runner.invoke(
        cli,
        [
            "whatif",
            "--from",
            str(today - timedelta(days=1)),
            "--to",
            str(today + timedelta(days=1)),
            "--caps",
            str(caps_file),
            "--sweep",
            "incident_caps.default.loss_multiple=1,3,6",
            "--plot",
            str(plot),
        ],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "decisions replayed" in result.output and "12" in result.output
    rows = {line[:24].strip(): line[24:].split() for line in result.output.splitlines()}
    skipped = rows["skipped for budget"]
    assert rows["contacts full"] == skipped != ["0", "0"]  # no calls proposed: every skip
    assert rows["broke the pool"] == rows["broke customer window"] == ["0", "0"]
    assert "sweep of incident_caps.default.loss_multiple" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_whatif_refuses_an_inverted_range(tmp_path: Path):
    """A clear error naming the field, exit status 1."""
    env = {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    runner = CliRunner()
    runner.invoke(cli, ["init"], env=env, catch_exceptions=False)
    result = runner.invoke(cli, ["whatif", "--from", "2026-12-01", "--to", "2026-11-01"], env=env)
    assert result.exit_code == 1
    assert "to must be after from" in result.output


def test_whatif_refuses_hostile_sweep_values_and_dates_before_any_work(tmp_path: Path):
    """Sweep values are plain decimal text and dates stay in range, as through the API."""
    env = {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    runner = CliRunner()
    base = ["whatif", "--from", "2026-11-01", "--to", "2026-12-01"]
    for extra in (
        ["--sweep", "contact_capacity.manager=²"],
        ["--sweep", "incident_caps.default.absolute.JPY=1E+999999"],
    ):
        result = runner.invoke(cli, base + extra, env=env)
        assert result.exit_code == 2 and "--sweep" in result.output, result.output
    result = runner.invoke(
        cli, ["whatif", "--from", "0001-01-01T00:49:56+11:16", "--to", "2026-12-01"], env=env
    )
    assert result.exit_code == 2 and "1970" in result.output, result.output

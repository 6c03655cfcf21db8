"""`remedy simulate --world N`: customers of a world unlike the one the bundled model knows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from remedy.cli import cli


def _retained(url: str) -> list[bool]:
    """The recorded outcomes, in decision order."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT o.retained FROM outcomes o JOIN decisions d ON d.id = o.decision_id "
                "ORDER BY d.created_at, d.external_id"
            )
        ).all()
    engine.dispose()
    return [bool(r[0]) for r in rows]


def test_the_same_seed_in_another_world_decides_alike_but_customers_answer_otherwise(
    tmp_path: Path,
):
    runner = CliRunner()
    outcomes = {}
    for name, extra in (("home", []), ("drawn", ["--world", "1"])):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        env = {"REMEDY_DATABASE_URL": url}
        assert runner.invoke(cli, ["init"], env=env, catch_exceptions=False).exit_code == 0
        result = runner.invoke(
            cli, ["simulate", "--incidents", "40", "--seed", "3", "--no-progress", *extra], env=env
        )
        assert result.exit_code == 0, result.output
        assert "40 decisions" in result.output
        outcomes[name] = _retained(url)
    assert len(outcomes["home"]) == len(outcomes["drawn"]) > 20
    # the decisions and the coin are the same; the world's P(stay) is not
    assert outcomes["home"] != outcomes["drawn"]


def test_a_world_is_a_non_negative_seed(tmp_path: Path):
    env = {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite'}"}
    result = CliRunner().invoke(cli, ["simulate", "--world", "-1"], env=env)
    assert result.exit_code == 2
    assert "--world" in result.output

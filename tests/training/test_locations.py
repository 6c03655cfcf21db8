"""Files go where the operator says: REMEDY_INSTANCE_PATH, REMEDY_MODEL_DIR, never the package."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import remedy
from remedy import create_app
from remedy.cli import cli

PACKAGE = Path(remedy.__file__).resolve().parent


def package_files() -> set[Path]:
    """Every file under the installed package, bytecode caches aside."""
    return {p for p in PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture
def bare_environment(monkeypatch):
    """No REMEDY_* location set by the caller's shell."""
    for name in ("REMEDY_INSTANCE_PATH", "REMEDY_DATABASE_URL", "REMEDY_MODEL_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_instance_folder_comes_from_remedy_instance_path(bare_environment, tmp_path):
    bare_environment.setenv("REMEDY_INSTANCE_PATH", str(tmp_path / "inst"))
    app = create_app({"TESTING": True})
    assert app.instance_path == str(tmp_path / "inst") and (tmp_path / "inst").is_dir()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'inst' / 'remedy.sqlite'}"
    assert app.config["MODEL_DIR"] == str(tmp_path / "inst" / "models")


def test_an_explicit_instance_path_wins_and_model_dir_overrides_it(bare_environment, tmp_path):
    bare_environment.setenv("REMEDY_INSTANCE_PATH", str(tmp_path / "from-env"))
    bare_environment.setenv("REMEDY_MODEL_DIR", str(tmp_path / "models-here"))
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "given"))
    assert app.instance_path == str(tmp_path / "given")
    assert app.config["MODEL_DIR"] == str(tmp_path / "models-here")


def test_a_relative_instance_path_is_made_absolute(bare_environment, tmp_path):
    bare_environment.chdir(tmp_path)
    bare_environment.setenv("REMEDY_INSTANCE_PATH", "relative/inst")
    assert create_app({"TESTING": True}).instance_path == str(tmp_path / "relative" / "inst")


def test_remedy_init_writes_only_into_the_instance_folder(bare_environment, tmp_path):
    before = package_files()
    env = {"REMEDY_INSTANCE_PATH": str(tmp_path / "inst")}
    result = CliRunner().invoke(cli, ["init"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "inst" / "remedy.sqlite").is_file()
    assert any((tmp_path / "inst" / "models").rglob("*")), "bundled models cached in the instance"
    assert package_files() == before

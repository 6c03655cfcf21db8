"""Every command helps alike as the `remedy` script, as `python -m remedy.cli` and under flask."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import click
import pytest

from remedy import create_app
from remedy.cli import COMMANDS, PROG_NAME, cli, main

# Click wraps help to the terminal's width: pin it so every form wraps alike. (CliRunner would
# force 80 columns where a real run in 80 gets 78: so the in-process runs below call the
# commands' own entry points, not CliRunner.)
COLUMNS = "80"


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return the path of `command` and of every command below it."""
    paths = [path]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            paths += command_paths(command.get_command(ctx, name), (*path, name))
    return paths


PATHS = command_paths(cli)


def run_in_process(start, argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    """Call `start()` with `argv` as sys.argv; return its exit code and what it printed."""
    monkeypatch.setenv("COLUMNS", COLUMNS)
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exited:
        start()
    return exited.value.code or 0, capsys.readouterr().out


def as_script(path: tuple[str, ...], capsys, monkeypatch) -> tuple[int, str]:
    """Run `remedy <path> --help` as the console script does: it calls `main()`."""
    return run_in_process(main, ["remedy", *path, "--help"], capsys, monkeypatch)


def as_module(path: tuple[str, ...], capsys, monkeypatch) -> tuple[int, str]:
    """Run `python -m remedy.cli <path> --help` the way `-m` does: remedy/cli/__main__.py."""

    def start() -> None:
        runpy.run_module("remedy.cli", run_name="__main__", alter_sys=True)

    return run_in_process(start, ["-m", *path, "--help"], capsys, monkeypatch)


def run_real(command: list[str]) -> tuple[int, str]:
    """Run `command` in a subprocess; return its exit code and standard output."""
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": COLUMNS},
    )
    return done.returncode, done.stdout


def test_every_command_is_listed():
    """The walk over the group sees every command, including `whatif` (once missed by `-m`)."""
    assert {path[0] for path in PATHS if path} == {
        "approvals",
        "budgets",
        "idempotency",
        "init",
        "keys",
        "ledger",
        "models",
        "reports",
        "serve",
        "simulate",
        "suggest",
        "train",
        "whatif",
        "worker",
    }
    assert ("keys", "revoke") in PATHS and ("models", "rollback") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(path) or "remedy")
def test_script_and_module_give_the_same_help(path, capsys, monkeypatch):
    script = as_script(path, capsys, monkeypatch)
    module = as_module(path, capsys, monkeypatch)
    assert script == module
    code, text = script
    assert code == 0
    assert text.startswith(f"Usage: {' '.join([PROG_NAME, *path])} [OPTIONS]")


def test_the_real_script_and_module_answer_as_in_process(capsys, monkeypatch):
    """One real start of each: the installed `remedy` script and `python -m remedy.cli`."""
    expected = as_script((), capsys, monkeypatch)
    script = Path(sys.executable).with_name("remedy")
    assert script.is_file(), "install the project first: pip install -e '.[test]'"
    assert run_real([str(script), "--help"]) == expected
    assert run_real([sys.executable, "-m", "remedy.cli", "--help"]) == expected


@pytest.mark.parametrize("path", [(), ("whatif",)], ids=["remedy", "whatif"])
def test_flask_remedy_gives_the_same_help(path, tmp_path: Path, capsys, monkeypatch):
    """`flask remedy ...` (create_app registers the group) helps as `remedy ...` does."""
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"})

    def start() -> None:
        app.cli.main(args=["remedy", *path, "--help"], prog_name="flask")

    code, text = run_in_process(start, ["flask"], capsys, monkeypatch)
    expected_code, expected = as_script(path, capsys, monkeypatch)
    assert code == expected_code == 0
    # Only the usage line differs: it names the program (`flask remedy`, not `remedy`).
    assert text.startswith(f"Usage: flask {' '.join([PROG_NAME, *path])} [OPTIONS]")
    assert text.splitlines()[1:] == expected.splitlines()[1:]


def test_the_top_level_help_lists_each_command_with_its_own_short_help():
    """`remedy --help` lists commands without importing them: its one-liners are a table in
    remedy/cli/__init__.py, which must say what each command's own help says."""
    ctx = click.Context(cli)
    assert sorted(COMMANDS) == cli.list_commands(ctx)
    for name, (_, line) in COMMANDS.items():
        assert line == cli.get_command(ctx, name).get_short_help_str(limit=1000), name


def test_the_top_level_help_imports_no_command():
    """Asking `remedy --help` loads no command module (nor SQLAlchemy or scikit-learn)."""
    code = (
        "import sys; from remedy.cli import main\n"
        "sys.argv = ['remedy', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in ('sqlalchemy', 'sklearn', 'rule_engine', 'remedy.cli.init')"
        " if m in sys.modules]\n"
        "print('LOADED', loaded)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "LOADED []" in out

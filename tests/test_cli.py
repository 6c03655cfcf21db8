"""The `remedy` command: init, keys, suggest, and serve under gunicorn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from remedy.cli import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Point the CLI at a fresh SQLite file."""
    return {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}


def run(env: dict[str, str], *args: str):
    """Invoke the CLI in-process and return the result."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_init_is_idempotent_and_creates_one_admin_key(env):
    first = run(env, "init")
    assert first.exit_code == 0, first.output
    assert "loaded defaults: catalog, rules, caps" in first.output
    assert "admin key (shown once" in first.output
    second = run(env, "init")
    assert "none needed" in second.output and "admin key exists" in second.output


def test_keys_create_list_revoke(env):
    run(env, "init")
    created = run(env, "keys", "create", "--role", "agent", "--team", "emea", "--label", "desk")
    token = created.output.strip()
    assert token.startswith("rmd_")
    prefix = token.split("_")[1]
    listed = run(env, "keys", "list").output
    assert prefix in listed and "emea" in listed and token not in listed
    assert run(env, "keys", "revoke", prefix).exit_code == 0
    assert "revoked" in run(env, "keys", "list").output
    assert run(env, "keys", "revoke", "nope").exit_code == 1
    bad = CliRunner().invoke(cli, ["keys", "create", "--role", "god"], env=env)
    assert bad.exit_code == 2


def test_suggest_prints_a_ranked_table(env):
    run(env, "init")
    result = run(
        env,
        "suggest",
        "--severity",
        "4",
        "--fault",
        "company",
        "--value",
        "2400",
        "--loss",
        "80.00",
        "--currency",
        "EUR",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("cap 320.00 EUR (loss_multiple)")
    assert "apology" in lines[2] and "contact_manager" in lines[2]
    bad = CliRunner().invoke(
        cli,
        [
            "suggest",
            "--severity",
            "4",
            "--fault",
            "company",
            "--value",
            "1",
            "--loss",
            "x",
            "--currency",
            "EUR",
        ],
        env=env,
    )
    assert bad.exit_code == 2


def free_port() -> int:
    """Ask the OS for a free TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Poll `url` until it answers (the server needs a moment to bind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read().decode()}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - local test server
            return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def test_serve_runs_gunicorn_and_answers_a_recommendation(env):
    output = run(env, "init").output
    admin = output.split("keep it safe): ")[1].split()[0]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        body = json.dumps(
            {
                "incident": {
                    "customer_id": "c9",
                    "severity": 3,
                    "fault_type": "partner",
                    "customer_value": "900.00",
                    "loss_amount": "45.00",
                    "currency": "USD",
                }
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/recommendations",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
            decision = json.loads(response.read())
        assert decision["plans"] and decision["currency"] == "USD"
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()

"""Start an app under gunicorn on a free local port, for the benchmarks that load it over HTTP."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Ask the OS for a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int, path: str | None) -> bool:
    """Tell whether the server is up: `path` answers 200, or (None) the port accepts."""
    if path is None:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    connection.request("GET", path)
    return connection.getresponse().status == 200


def start_gunicorn(
    app_spec: str,
    workers: int,
    env: dict[str, str],
    ready: str | None = "/healthz",
    extra_args: Sequence[str] = (),
    quiet_stderr: bool = False,
) -> tuple[subprocess.Popen, int]:
    """Serve `app_spec` with `gunicorn -w workers` and wait (120 s at most) until it is ready.

    `ready` is a path that must answer 200, or None to wait only for the port to accept.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", *extra_args, app_spec],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet_stderr else None,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if _answers(port, ready):
                break
        except OSError:
            time.sleep(0.1)
    return process, port

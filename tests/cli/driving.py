"""Drive the `remedy` command from tests: in process (`run`), and `remedy serve` as a child
process on a free port (`start_serve`), waited for (`wait_for`, `wait_until`) and read
(`server_log`, its stderr drained as it comes by `Drained`). Used by the CLI, client and API
tests that need a served app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from typing import IO

from click.testing import CliRunner

from remedy.cli import cli


def run(env: dict[str, str], *args: str):
    """Invoke the CLI in-process and return the result."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def free_port() -> int:
    """Ask the OS for a free TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll `url` until it answers (the server needs a moment to bind; a loaded machine, and
    the job worker `remedy serve` starts beside gunicorn, make that moment longer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - local test server
            return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


class Drained:
    """A server's stderr, read as it comes and kept for failure messages.

    Nobody reading a pipe lets it fill (64 kB): the server then blocks in the middle of writing
    an access-log line, and every request after waits. A test that polls a job twenty times a
    second on a loaded machine writes that much in seconds.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        """Start reading `stream` until every process that holds it has closed it."""
        self._lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:  # closed here, at the end of what the server wrote
            for line in iter(stream.readline, b""):
                self._lines.append(line)

    def text(self, wait: float = 5) -> str:
        """What was written, after waiting up to `wait` s for every writer to close it."""
        self._reader.join(wait)
        return b"".join(self._lines).decode(errors="replace")


def start_serve(env: dict[str, str], workers: int, *options: str) -> tuple[subprocess.Popen, int]:
    """Run `remedy serve` (gunicorn, behind nginx when installed) on a free port, with more
    `options`; stderr is kept for failure messages (`process.log`, drained as it comes)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "serve", "--port", str(port)]
        + ["--workers", str(workers), *options],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.log = Drained(process.stderr)  # type: ignore[attr-defined]
    return process, port


def server_log(process: subprocess.Popen) -> str:
    """The server's stderr so far (drained when `start_serve` started it)."""
    log = getattr(process, "log", None)
    return log.text() if log is not None else process.stderr.read().decode()


def wait_until(ready, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    """Poll `ready()` until it holds; fail if the server exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.05)

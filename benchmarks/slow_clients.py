"""Slow clients against `remedy serve`: connections that send a request one header line at a
time, a few seconds apart, and never finish (slowloris). No key is needed to hold them.

`SlowClients` is shared by the benchmark (below: recommendation latency under a normal load,
with and without 100 slow connections, for the nginx front and for gunicorn alone) and by
tests/cli/test_slow_clients.py.

    nice -n 10 python -m benchmarks.slow_clients [--slow 100] [--seconds 10] [--rounds 2]
        [--clients 4] [--fronts nginx,none]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RECOMMENDATION = {
    "incident": {
        "customer_id": "c-slow",
        "severity": 3,
        "fault_type": "company",
        "customer_value": "1200.00",
        "loss_amount": "60.00",
        "currency": "EUR",
        "category": "delivery",
    }
}


class SlowClients:
    """`count` connections, each sending one more header line every `interval` seconds.

    One thread feeds them all; `start` returns once every connection is open and has sent its
    request line (so a server that reads in threads has handed each to a thread).
    """

    def __init__(
        self, port: int, count: int, interval: float = 2.0, replenish: bool = False
    ) -> None:
        """Aim at 127.0.0.1:`port`; `replenish`: open a new connection for each one the server
        closes (at its header deadline), so `count` stay held throughout, as an attacker would."""
        self.port, self.count, self.interval = port, count, interval
        self.replenish = replenish
        self.reopened = 0
        self.sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._feeder = threading.Thread(target=self._feed, daemon=True)

    def _open(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        connection.sendall(b"POST /v1/recommendations HTTP/1.1\r\nHost: slow\r\n")
        return connection

    def start(self) -> SlowClients:
        """Open every connection and send its first line."""
        for _ in range(self.count):
            self.sockets.append(self._open())
        self._feeder.start()
        return self

    def _feed(self) -> None:
        line = 0
        while not self._stop.wait(self.interval):
            line += 1
            for index, connection in enumerate(self.sockets):
                if self.replenish and not _is_open(connection):
                    connection.close()
                    with contextlib.suppress(OSError):
                        self.sockets[index] = self._open()
                        self.reopened += 1
                    continue
                with contextlib.suppress(OSError):  # the server gave up on it: as it should
                    connection.sendall(b"X-Slow-%d: 1\r\n" % line)

    def still_open(self) -> int:
        """How many connections the server has not closed."""
        return sum(_is_open(connection) for connection in self.sockets)

    def stop_feeding(self) -> None:
        """Send no more lines (and open no more connections)."""
        self._stop.set()
        if self._feeder.is_alive():
            self._feeder.join()

    def close(self) -> None:
        """Stop feeding and close every connection."""
        self.stop_feeding()
        for connection in self.sockets:
            connection.close()


def _is_open(connection: socket.socket) -> bool:
    """Whether the server has not closed `connection` (nothing to read, no EOF, no reset)."""
    connection.setblocking(False)
    try:
        return connection.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            connection.setblocking(True)


def timed(port: int, method: str, path: str, key: str | None = None, timeout: float = 30):
    """One request on a fresh connection: (status, seconds)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    body = None
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
        body = json.dumps(RECOMMENDATION)
    try:
        connection.request(method, path, body=body, headers=headers)
        status = connection.getresponse().status
    except OSError:
        status = 0  # timed out or refused
    finally:
        connection.close()
    return status, time.monotonic() - started


def start_service(folder: Path, front: str) -> tuple[subprocess.Popen, int, str]:
    """`remedy init` and `remedy serve --front front` on a fresh SQLite database."""
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite'}",
        "REMEDY_INSTANCE_PATH": str(folder / "instance"),
        "REMEDY_RATE_LIMIT": "",
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    init = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "remedy.cli", "init"], env=env, capture_output=True, text=True
    )
    key = init.stdout.split("keep it safe): ")[1].split()[0]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "remedy.cli", "serve", "--port", str(port), "--front", front],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and timed(port, "GET", "/healthz", timeout=1)[0] != 200:
        time.sleep(0.2)
    return process, port, key


def load(port: int, key: str, seconds: float, clients: int) -> list[float]:
    """`clients` threads sending recommendations back to back for `seconds`; latencies of
    those answered 201 (a failure counts as the time it took, marked by `failed`)."""
    latencies: list[float] = []
    failures = [0]
    end = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < end:
            status, took = timed(port, "POST", "/v1/recommendations", key)
            latencies.append(took)
            if status != 201:
                failures[0] += 1

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.failed = failures[0]  # type: ignore[attr-defined]
    return latencies


def p(values: list[float], q: float) -> float:
    """The q-quantile of `values`, in milliseconds."""
    return statistics.quantiles(values, n=100)[int(q * 100) - 1] * 1000 if len(values) > 1 else 0


def main() -> None:
    """Print recommendation latency with and without slow clients, per front.

    The two conditions alternate (`--rounds` of each, without first) so that a change in the
    machine's load during the run falls on both; the slow connections are replenished as the
    front closes them at its header deadline, so there are `--slow` of them throughout.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slow", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10, help="per round and condition")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fronts", default="nginx,none")
    args = parser.parse_args()
    print(
        f"load average {os.getloadavg()[0]:.2f}; {args.clients} clients; {args.rounds} rounds "
        f"of {args.seconds:.0f} s per condition"
    )
    for front in args.fronts.split(","):
        quiet: list[float] = []
        busy: list[float] = []
        failed = {"without": 0, "with": 0}
        loads: list[float] = []
        held: list[int] = []
        reopened = 0
        health = 0.0
        with tempfile.TemporaryDirectory() as folder:
            process, port, key = start_service(Path(folder), front)
            try:
                load(port, key, 3, args.clients)  # warm the workers' caches
                for _ in range(args.rounds):
                    loads.append(os.getloadavg()[0])
                    quiet += load(port, key, args.seconds, args.clients)
                    failed["without"] += load.failed  # type: ignore[attr-defined]
                    slow = SlowClients(port, args.slow, interval=2.0, replenish=True).start()
                    try:
                        busy += load(port, key, args.seconds, args.clients)
                        failed["with"] += load.failed  # type: ignore[attr-defined]
                        health = max(health, timed(port, "GET", "/healthz", timeout=30)[1])
                    finally:
                        slow.stop_feeding()
                        held.append(slow.still_open())
                        reopened += slow.reopened
                        slow.close()
                    loads.append(os.getloadavg()[0])
            finally:
                process.terminate()
                process.wait(timeout=60)
        for label, values in (("without", quiet), ("with", busy)):
            print(
                f"front={front:5} {label:7} {args.slow} slow: n={len(values):5} "
                f"failed={failed[label]:4} p50={p(values, 0.50):7.1f} ms "
                f"p99={p(values, 0.99):7.1f} ms max={max(values) * 1000:7.1f} ms"
            )
        ratio = p(busy, 0.99) / p(quiet, 0.99) if len(quiet) > 1 and p(quiet, 0.99) else 0
        print(
            f"front={front:5} p99 with / without = {ratio:.2f} (issue 22: <= 2); slow "
            f"connections open at each round's end {held}, {reopened} reopened after the front "
            f"closed them; slowest /healthz meanwhile {health * 1000:.1f} ms; load average "
            f"{min(loads):.2f}-{max(loads):.2f}"
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()

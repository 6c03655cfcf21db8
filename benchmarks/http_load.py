"""Load a local URL over HTTP and measure it: wrk when installed, else Python threads; and the
percentiles the recommendation benchmarks report (benchmarks/recommend.py)."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Return p50, p99 and the mean, in milliseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        statistics.fmean(ordered) * 1000,
    )


def wrk_ms(text: str) -> float:
    """wrk's latency text ('812.00us', '3.21ms', '1.02s') in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load_wrk(
    url: str, bodies: list[dict] | None, key: str, seconds: int, connections: int
) -> tuple[float, float, float, int]:
    """Drive `url` with wrk (POST the bodies in turn, or GET when None); rate, p50, p99 (ms)
    and socket errors (wrk gives up on a request after 2 s: a timeout, not in the latencies)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.headers["Authorization"] = "Bearer {key}"\n')
        if bodies is not None:
            script.write('wrk.headers["Content-Type"] = "application/json"\nbodies = {\n')
            script.writelines(f"  [[{json.dumps(body)}]],\n" for body in bodies)
            script.write(
                "}\ni = 0\nrequest = function()\n  i = i % #bodies + 1\n"
                '  return wrk.format("POST", nil, nil, bodies[i])\nend\n'
            )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{errors.group(1)} non-2xx responses from {url}:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))
    p99 = wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(n) for n in socket.groups()) if socket else 0
    return rate, p50, p99, errors


def load_python(
    url: str, bodies: list[dict] | None, key: str, seconds: int, connections: int
) -> tuple[float, float, float, int]:
    """Fallback load generator: threads posting (or, without bodies, getting) in a loop."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        count = offset
        while time.monotonic() < stop:
            data = json.dumps(bodies[count % len(bodies)]).encode() if bodies else None
            count += 1
            request = urllib.request.Request(
                url,
                data=data,
                method="POST" if data is not None else "GET",
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            start = time.perf_counter()
            with urllib.request.urlopen(request) as response:  # noqa: S310 - local server
                response.read()
            latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p50, p99, _ = percentiles(latencies)
    return len(latencies) / seconds, p50, p99, 0

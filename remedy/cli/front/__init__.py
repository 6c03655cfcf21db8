"""The buffering front of `remedy serve`: nginx, configured from `nginx.conf` beside this file.

Why a front at all: gunicorn's gthread worker reads a request's headers and body in a request
thread, blocking, once the first byte has arrived, so a client sending one header line every
few seconds holds a thread for as long as it likes; a handful of such clients (no key needed)
held every thread and /healthz timed out. nginx reads requests in an event loop with a deadline
on the headers and on each pause in the body, and passes only whole requests to gunicorn.
benchmarks/README.md ("Slow clients") has the measurements behind the choice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

# Debian's nginx is in /usr/sbin, which is not on every PATH (cron, a non-root shell).
SEARCH_PATH = "/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin"


@dataclass(frozen=True)
class FrontSettings:
    """The front's deadlines and limits (the `remedy serve` options of the same names)."""

    header_timeout: int = 10
    body_timeout: int = 10
    keepalive_timeout: int = 75
    keepalive_requests: int = 1000
    max_body_bytes: int = 64 * 1024
    worker_connections: int = 4096
    # gunicorn's worker timeout plus a margin: gunicorn, not the front, ends a slow request.
    upstream_timeout: int = 35


def nginx_binary() -> str | None:
    """The nginx executable, if one is installed."""
    return shutil.which("nginx") or shutil.which("nginx", path=SEARCH_PATH)


def render(settings: FrontSettings, listen: str, upstream: str, run_dir: Path) -> str:
    """nginx's configuration for a front on `listen` before gunicorn on `upstream`."""
    template = resources.files(__package__).joinpath("nginx.conf").read_text()
    return Template(template).substitute(
        run_dir=str(run_dir),
        listen=listen,
        upstream=upstream,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        send_timeout=max(settings.body_timeout, 10),
        keepalive_timeout=settings.keepalive_timeout,
        keepalive_requests=settings.keepalive_requests,
        front_body_bytes=2 * settings.max_body_bytes,
        worker_connections=settings.worker_connections,
        upstream_timeout=settings.upstream_timeout,
    )


def nginx_command(binary: str, config: Path, run_dir: Path) -> list[str]:
    """The command that runs nginx in the foreground with `config`, logging to stderr."""
    return [binary, "-c", str(config), "-p", str(run_dir), "-e", "stderr", "-g", "daemon off;"]


def listen_address(host: str, port: int) -> str:
    """nginx's `listen` value for a host and port (IPv6 hosts in brackets)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

"""Request ids, structured JSON logs and Prometheus metrics.

Every request gets an id (the caller's `X-Request-Id` if it is sane, else a new one); it is
returned in the `X-Request-Id` header and added to every log line written while the request
runs. Logs are one JSON object per line on stderr. Metrics are served at `/metrics` in the
Prometheus text format; under gunicorn with several workers set `PROMETHEUS_MULTIPROC_DIR` to
an empty directory (`remedy serve` does) so every worker's samples are aggregated.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from remedy.metrics import CONFLICTS, REQUEST_LATENCY

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id() -> str | None:
    """Return the current request's id, if inside a request."""
    return g.get("request_id") if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """Format records as one JSON object per line, with the request id."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record."""
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id(),
        }
        for key in ("method", "path", "status", "duration_ms", "principal"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send remedy's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("remedy")
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


access_log = logging.getLogger("remedy.access")


def _start_request() -> None:
    """Assign the request id and start the clock."""
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    """Return the id, observe latency and write the access log line."""
    response.headers["X-Request-Id"] = g.get("request_id", "")
    started = g.get("request_started")
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule else "unmatched"
    REQUEST_LATENCY.labels(route, request.method, str(response.status_code)).observe(elapsed)
    if response.status_code == 409:
        CONFLICTS.labels(route).inc()
    principal = g.get("principal")
    access_log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            "principal": principal.prefix if principal else None,
        },
    )
    return response


def metrics_response() -> Response:
    """Render every metric (aggregated over workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Install request ids and access logs (the API serves /metrics, to admins)."""
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    app.before_request(_start_request)
    app.after_request(_finish_request)

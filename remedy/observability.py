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
    """Return the id, observe latency and write the access log line.

    Every request runs this: the request is read once (not through its proxy per attribute),
    each (route, method, status) finds its histogram child in a dict instead of
    `labels()`'s locked lookup, and the access line's fields are built only when the line
    is written (LOG_LEVEL INFO)."""
    context = g._get_current_object()
    response.headers["X-Request-Id"] = getattr(context, "request_id", "")
    started = getattr(context, "request_started", None)
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    current = request._get_current_object()  # type: ignore[attr-defined]
    status = response.status_code
    rule = current.url_rule
    route = rule.rule if rule is not None else "unmatched"
    _latency(route, current.method, status).observe(elapsed)
    if status == 409:
        CONFLICTS.labels(route).inc()
    if access_log.isEnabledFor(logging.INFO):
        principal = getattr(context, "principal", None)
        access_log.info(
            "%s %s %s",
            current.method,
            current.path,
            status,
            extra={
                "method": current.method,
                "path": current.path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "principal": principal.prefix if principal else None,
            },
        )
    return response


_LATENCY_CHILDREN: dict[tuple[str, str, int], Any] = {}


def _latency(route: str, method: str, status: int) -> Any:
    """The latency histogram's child for these labels (looked up once per label set; routes
    are the app's rules, so the set is bounded)."""
    key = (route, method, status)
    child = _LATENCY_CHILDREN.get(key)
    if child is None:
        child = _LATENCY_CHILDREN[key] = REQUEST_LATENCY.labels(route, method, str(status))
    return child


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

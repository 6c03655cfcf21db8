"""The service's Prometheus metrics, defined once; the API and the services count into them and
`remedy/observability.py` serves them at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "remedy_request_seconds",
    "Request latency by route and method",
    ["route", "method", "status"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DECISIONS = Counter("remedy_decisions_total", "Recommendations made", ["explored"])
ACCEPTS = Counter("remedy_accepts_total", "Plans accepted (reserved or sent for approval)")
CONFLICTS = Counter("remedy_conflicts_total", "Requests answered 409", ["route"])
SPEND = Counter("remedy_spend_minor_total", "Committed spend in minor units", ["pool", "currency"])
MODEL_IN_USE = Gauge(
    "remedy_model_info",
    "The model version in use (value 1)",
    ["version"],
    multiprocess_mode="liveall",
)

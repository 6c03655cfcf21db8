"""A small typed client for the remedy API, standard library only.

    client = RemedyClient("http://127.0.0.1:8000", key)
    decision = client.recommend({"customer_id": "c-42", "severity": 4, ...}, team="emea")
    client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])

Results are the API's JSON as TypedDicts: money stays a decimal string with its currency (wrap
it in `Decimal`, never `float`). Every non-2xx answer raises `RemedyError` carrying the error
envelope `{code, status, message, errors}`; a body that is not the envelope (a gateway's HTML
page) is summarised, not parsed.

429 and 503 are retried after the `Retry-After` the service sends (at most `max_attempts`
tries, and never a wait longer than `max_wait` seconds: a longer one raises at once). Both are
answered before anything is written, so retrying is safe for every call. A connection that
breaks mid-request is retried only where a repeat cannot act twice: reads, and the lifecycle
steps, which always send an `Idempotency-Key` (generated when not given, the same on every
retry of that call, so the service replays its first answer instead of acting again).
"""

from remedy.client.api import OPERATIONS, RemedyClient
from remedy.client.errors import RETRYABLE, JobFailed, RemedyError, retry_delay
from remedy.client.types import (
    Action,
    Approval,
    Cap,
    Decision,
    DroppedPlan,
    Incident,
    Job,
    LifecycleResult,
    MassIncident,
    NewWebhook,
    Outcome,
    Plan,
    Pool,
    Reservation,
    TalkingPoints,
    Webhook,
    WebhookDelivery,
    WhoAmI,
)

__all__ = [
    "OPERATIONS",
    "RETRYABLE",
    "Action",
    "Approval",
    "Cap",
    "Decision",
    "DroppedPlan",
    "Incident",
    "Job",
    "JobFailed",
    "LifecycleResult",
    "MassIncident",
    "NewWebhook",
    "Outcome",
    "Plan",
    "Pool",
    "RemedyClient",
    "RemedyError",
    "Reservation",
    "TalkingPoints",
    "Webhook",
    "WebhookDelivery",
    "WhoAmI",
    "retry_delay",
]

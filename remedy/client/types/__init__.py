"""The API's answers as TypedDicts: money stays a decimal string with its currency.

Each type mirrors one schema of `/openapi.json` (`SCHEMAS` says which), field for field:
tests/client/test_types_match_openapi.py fails, naming the schema and the field, when the API
has a field a type lacks or a type has one the API does not. A new field in an API schema is
added in the same change to the module of this package that holds its type (decisions,
lifecycle, keys, pools, jobs, mass_incidents, webhooks); a new type is imported here and goes
into `SCHEMAS`, so `from remedy.client.types import X` keeps working for every type.
"""

from __future__ import annotations

from remedy.client.types.decisions import (
    Action,
    Approval,
    Blocked,
    Cap,
    Decision,
    DroppedPlan,
    Fact,
    Incident,
    Plan,
    TalkingPoints,
)
from remedy.client.types.jobs import Job, JobError, JobProgress
from remedy.client.types.keys import WhoAmI
from remedy.client.types.lifecycle import LifecycleResult, Outcome, Reservation
from remedy.client.types.mass_incidents import MassChunks, MassIncident, MassPool, MassTotal
from remedy.client.types.pools import Pace, Pool, PoolLine, PoolLines, ScheduledPool
from remedy.client.types.webhooks import NewWebhook, Webhook, WebhookDelivery

# Which schema of /openapi.json each type mirrors (components/schemas/<name>).
SCHEMAS: dict[str, type] = {
    "Incident": Incident,
    "Line": PoolLine,
    "Lines": PoolLines,
    "Fact": Fact,
    "Blocked": Blocked,
    "Action": Action,
    "TalkingPoints": TalkingPoints,
    "Plan": Plan,
    "DroppedPlan": DroppedPlan,
    "Cap": Cap,
    "ApprovalStatus": Approval,
    "Decision": Decision,
    "Reservation": Reservation,
    "Lifecycle": LifecycleResult,
    "Outcome": Outcome,
    "WhoAmI": WhoAmI,
    "Pace": Pace,
    "Scheduled": ScheduledPool,
    "Pool": Pool,
    "Progress": JobProgress,
    "JobError": JobError,
    "Job": Job,
    "MassPool": MassPool,
    "MassTotal": MassTotal,
    "MassChunks": MassChunks,
    "MassIncident": MassIncident,
    "Webhook": Webhook,
    "NewWebhook": NewWebhook,
    "Delivery": WebhookDelivery,
}

__all__ = [
    "SCHEMAS",
    "Action",
    "Approval",
    "Blocked",
    "Cap",
    "Decision",
    "DroppedPlan",
    "Fact",
    "Incident",
    "Job",
    "JobError",
    "JobProgress",
    "LifecycleResult",
    "MassChunks",
    "MassIncident",
    "MassPool",
    "MassTotal",
    "NewWebhook",
    "Outcome",
    "Pace",
    "Plan",
    "Pool",
    "PoolLine",
    "PoolLines",
    "Reservation",
    "ScheduledPool",
    "TalkingPoints",
    "Webhook",
    "WebhookDelivery",
    "WhoAmI",
]

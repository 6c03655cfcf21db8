"""The API's answers as TypedDicts: money stays a decimal string with its currency.

Each type mirrors one schema of `/openapi.json` (`SCHEMAS` says which), field for field:
tests/client/test_types_match_openapi.py fails, naming the schema and the field, when the API
has a field a type lacks or a type has one the API does not. A new field in an API schema is
added here in the same change.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Incident(TypedDict):
    """What went wrong, for whom, and what it cost them (amounts as decimal strings)."""

    customer_id: str
    severity: int
    fault_type: str
    customer_value: str
    loss_amount: str
    currency: str
    category: NotRequired[str]
    channel: NotRequired[str]
    locale: NotRequired[str]
    churn_threat: NotRequired[bool]
    customer_status: NotRequired[str]  # active, leaving (implies churn_threat) or left
    public: NotRequired[bool]  # seen by others (a post, a review)
    reach: NotRequired[int | None]  # followers or audience of a public complaint
    external_id: NotRequired[str | None]
    touchpoint: NotRequired[str | None]
    public: NotRequired[bool]
    reach: NotRequired[int | None]
    # When the customer first complained (ISO 8601 with a zone; default: when asked): the
    # promises count from it.
    reported_at: NotRequired[str]


class Fact(TypedDict):
    """What a decision says, as data: a code and its typed parameters (money as
    {"money": [amount, currency]}, items as {"item": id}, levels, durations, nested facts)."""

    code: str
    params: NotRequired[dict[str, Any]]


class Blocked(TypedDict):
    """The limit that blocked every other plan, who can lift it and how."""

    limit: str  # pool, window, capacity, fix_ceiling, incident_cap or rules
    who: str  # finance, lead or admin
    how: str  # in the reader's language
    how_code: Fact


class Action(TypedDict):
    """One action of a plan."""

    item_id: str
    kind: str
    part: str  # apology, fix or overdelivery
    level: str | None
    label: str
    value: str
    cost: str
    requires_approval: bool
    audience: str


class TalkingPoints(TypedDict):
    """Prompts for the agent: the language, how soon to answer and fix (ISO 8601 durations),
    by when (UTC times counted from the incident's reported_at), and the points."""

    language: str
    respond_within: str
    fix_within: NotRequired[str | None]  # promised when we or a partner are at fault
    respond_by: NotRequired[str | None]  # null in decisions made before it was recorded
    fix_by: NotRequired[str | None]
    points: list[str]


class Plan(TypedDict):
    """A ranked plan."""

    plan_id: str
    rank: int
    actions: list[Action]
    fix: list[Action]  # what makes the customer whole
    overdelivery: list[Action]  # everything beyond the fix
    currency: str
    fix_cost: str  # outside the incident cap
    total_cost: str
    total_value: str
    expected_net_value: str
    p_stay: str
    expected_referrals: str
    requires_approval: bool
    approver: str | None  # lead or finance when it requires approval
    generous: bool  # the most generous plan within the guardrails, shown as an option
    reasons: list[str]  # in the reader's language
    reason_codes: list[Fact]  # the reasons as data
    rules: list[str]
    blocked_by: Blocked | None  # offered only because a limit blocked every other plan
    talking_points: TalkingPoints | None


class DroppedPlan(TypedDict):
    """A better-scoring plan the guardrails removed, and why."""

    plan_id: str
    total_cost: str
    expected_net_value: str
    reason: str | None  # in the reader's language
    reason_code: Fact | None
    dropped_by: str | None  # cap or budget


class Cap(TypedDict):
    """The per-incident cap and how it was set."""

    amount: str
    currency: str
    binding: str
    terms: dict[str, str]
    factor: str
    approval_threshold: str


class Approval(TypedDict):
    """Where a decision's latest approval request stands (GET /v1/decisions/<id>)."""

    state: str  # pending, approved, rejected, cancelled, expired
    kind: str  # plan or overage
    tier: str  # who decides it now: lead or finance
    requested_tier: str
    escalated: bool
    escalation_due: bool  # overdue for the next tier, not yet recorded by the worker
    requested_at: str
    escalated_at: str | None
    waiting_seconds: int | None
    fix_by: NotRequired[str | None]  # when the fix is promised
    fix_seconds_left: NotRequired[int | None]  # while pending; negative: the fix is overdue
    decided_at: str | None
    decided_by: str | None
    decided_role: str | None
    reason: str | None
    amount: str
    currency: str
    message: str  # in the decision's language


class Decision(TypedDict):
    """A recommendation as decided and stored (POST /v1/recommendations, GET /v1/decisions)."""

    decision_id: str
    created_at: str
    status: str
    incident: dict[str, Any]
    team: str
    currency: str
    language: str  # the reader's (Accept-Language; else the customer's): labels, reasons, notes
    plans: list[Plan]
    dropped: list[DroppedPlan]
    candidates_considered: int
    caps: Cap
    fired_rules: list[str]
    excluded_items: dict[str, str]
    excluded_codes: dict[str, Fact]
    notes: list[str]
    note_codes: list[Fact]
    versions: dict[str, str]
    propensity: str
    approval: NotRequired[Approval | None]  # GET /v1/decisions/<id> only


class Reservation(TypedDict):
    """The budget a decision holds."""

    id: str
    state: str
    pool: str
    reserved: str
    committed: str
    requested: str | None
    expires_at: str


class LifecycleResult(TypedDict):
    """A decision after accept, approve, reject, fulfil or cancel."""

    decision_id: str
    status: str
    plan_id: str | None
    currency: str
    total_cost: str | None
    reservation: Reservation | None


class Outcome(TypedDict):
    """What happened after an accepted plan."""

    decision_id: str
    plan_id: str
    retained: bool
    observed_at: str
    responded_at: str | None  # when the agent first answered the customer
    fixed_at: str | None  # when the fix reached the customer
    referrals: int | None
    revenue_after: str | None
    currency: str
    csat: int | None
    recorded_by: str


class WhoAmI(TypedDict):
    """The calling key: prefix, role and team scope."""

    prefix: str
    role: str
    team: str | None
    expires_at: str | None  # a panel session's key: when it stops working


class Pace(TypedDict):
    """How a pool's spend runs against its period (shares as decimal strings)."""

    elapsed_share: str
    spent_share: str
    on_pace_spend: str
    cost_price: str  # pacing's shadow price on cost (finance's number)


class ScheduledPool(TypedDict):
    """A pool version that takes effect later."""

    version: int
    period: str
    limit: str
    fix_limit: str | None  # a split pool's fix line
    overdelivery_limit: str | None
    currency: str
    effective_at: str


class PoolLine(TypedDict):
    """One line of a pool: fix money or overdelivery money (`shared`: the pool's one line)."""

    limit: str
    reserved: str
    committed: str
    remaining: str
    shared: bool


class PoolLines(TypedDict):
    """A pool's two lines."""

    fix: PoolLine
    overdelivery: PoolLine


class Pool(TypedDict):
    """A budget pool in effect, what it holds and its pace."""

    team: str
    currency: str
    period: str
    period_key: str
    period_start: str
    period_end: str
    limit: str
    reserved: str
    committed: str
    remaining: str
    pace: Pace
    version: int
    effective_at: str
    created_by: str
    scheduled: ScheduledPool | None
    split: bool  # a fix line and an overdelivery line of their own
    lines: PoolLines


class JobProgress(TypedDict):
    """How far a job is: `done` of `total` steps (None until a worker starts it)."""

    done: int
    total: int | None


class JobError(TypedDict):
    """Why a job failed: a message and the fields it names, like the error envelope."""

    message: str
    errors: dict[str, list[str]]


class Job(TypedDict):
    """Long work run by `remedy worker` (a what-if): poll it until succeeded or failed."""

    id: str
    kind: str
    status: str  # queued, running, succeeded, failed
    progress: JobProgress
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: JobError | None


class MassPool(TypedDict):
    """The pool a mass incident's currency spends from, as it stands now."""

    team: str
    period: str
    limit: str
    remaining: str
    split: bool
    fix_remaining: str | None
    overdelivery_remaining: str | None
    fits: bool  # what is still to reserve fits what the pool has left


class MassTotal(TypedDict):
    """One currency of a mass incident: its plans' total against the pool."""

    currency: str
    customers: int
    refused: int
    planned: str
    fix: str
    overdelivery: str
    reserved: str
    to_reserve: str
    pool: MassPool | None


class MassChunks(TypedDict):
    """A mass incident's chunks, each reserved in one transaction."""

    total: int
    pending: int
    reserved: int
    refused: int
    size: int


class MassIncident(TypedDict):
    """One failure for many customers: where it stands and its total against the pool."""

    id: str
    team: str
    status: str  # deciding, ready, reserving, reserved, partly_reserved
    incident: dict[str, Any]
    customers: int
    tier: str | None  # who approves it: lead or finance
    counts: dict[str, int]
    totals: list[MassTotal]
    chunks: MassChunks
    refusal: str | None
    needs_approval_by: dict[str, int]
    progress: JobProgress
    created_by: str
    created_at: str
    decided_at: str | None
    approved_by: str | None
    approved_role: str | None
    approved_at: str | None
    reason: str | None
    finished_at: str | None
    decide_job_id: str | None
    reserve_job_id: str | None
    job: Job | None  # the job just queued (declare, approve)


class Webhook(TypedDict):
    """A team's subscription to events (never its secret)."""

    id: str
    team: str
    url: str
    events: list[str]
    active: bool
    description: str
    created_by: str
    created_at: str


class NewWebhook(Webhook):
    """A new subscription: the only time its signing secret is shown."""

    secret: str


class WebhookDelivery(TypedDict):
    """One delivery of an event to a subscription."""

    id: int
    event: str
    event_id: str
    state: str  # pending, delivered, failed
    attempts: int
    next_attempt_at: str | None
    last_status: int | None
    last_error: str | None
    redelivery_of: int | None
    created_at: str
    delivered_at: str | None
    payload: dict[str, Any]


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
